//! SIP telephony for the live center, behind the server's `Telephony` trait: signalling on
//! `rsipstack`, media from `watchpost-media`.
