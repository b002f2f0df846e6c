//! The media of a monitoring center's phone calls, sans-IO: every piece is a pure function or
//! a small state machine over 20 ms frames of 8 kHz audio (160 signed 16-bit samples), so it
//! is tested without a socket. The telephony adapter (`watchpost-telephony`) does the IO.
