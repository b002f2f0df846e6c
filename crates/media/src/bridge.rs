//! The two-leg bridge of a B2BUA, sans-IO: what one leg says waits here, a few 20 ms frames
//! deep, until the 20 ms pacing sends it on the other leg. Both legs are decoded anyway (the
//! detector and the recorder listen to the contact), so the bridge moves frames, not packets,
//! and each leg keeps its own RTP numbering and codec.

use crate::FRAME_SAMPLES;
use std::collections::VecDeque;

/// At most this many frames wait in each direction: a peer whose clock runs fast drops its
/// oldest frame instead of building up delay (5 frames: 100 ms).
pub const DEPTH: usize = 5;

/// The contact's leg and the agent's leg, joined.
#[derive(Debug, Default)]
pub struct Bridge {
    to_contact: VecDeque<Vec<i16>>,
    to_agent: VecDeque<Vec<i16>>,
}

impl Bridge {
    pub fn new() -> Bridge {
        Bridge::default()
    }

    /// A frame (160 samples) the contact said, for the agent.
    pub fn from_contact(&mut self, frame: Vec<i16>) {
        push(&mut self.to_agent, frame);
    }

    /// A frame the agent said, for the contact.
    pub fn from_agent(&mut self, frame: Vec<i16>) {
        push(&mut self.to_contact, frame);
    }

    /// The agent's next frame for the contact, if one waits.
    pub fn for_contact(&mut self) -> Option<Vec<i16>> {
        self.to_contact.pop_front()
    }

    /// The contact's next frame for the agent; silence when none waits.
    pub fn for_agent(&mut self) -> Vec<i16> {
        self.to_agent
            .pop_front()
            .unwrap_or_else(|| vec![0; FRAME_SAMPLES])
    }

    /// The legs part (the agent is let go): nothing said before reaches anyone.
    pub fn clear(&mut self) {
        self.to_contact.clear();
        self.to_agent.clear();
    }
}

fn push(queue: &mut VecDeque<Vec<i16>>, frame: Vec<i16>) {
    if queue.len() >= DEPTH {
        queue.pop_front();
    }
    queue.push_back(frame);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: i16) -> Vec<i16> {
        vec![n; FRAME_SAMPLES]
    }

    #[test]
    fn each_side_hears_the_other_in_order() {
        let mut b = Bridge::new();
        b.from_contact(frame(1));
        b.from_contact(frame(2));
        b.from_agent(frame(9));
        assert_eq!(b.for_agent(), frame(1));
        assert_eq!(b.for_agent(), frame(2));
        assert_eq!(b.for_contact(), Some(frame(9)));
        assert_eq!(b.for_contact(), None);
        assert_eq!(b.for_agent(), frame(0), "nothing waiting is silence");
    }

    #[test]
    fn a_fast_peer_loses_its_oldest_frames_not_delay() {
        let mut b = Bridge::new();
        for n in 0..8 {
            b.from_agent(frame(n));
        }
        let heard: Vec<i16> = std::iter::from_fn(|| b.for_contact())
            .map(|f| f[0])
            .collect();
        assert_eq!(heard, [3, 4, 5, 6, 7]);
    }

    #[test]
    fn parting_forgets_what_was_said() {
        let mut b = Bridge::new();
        b.from_agent(frame(1));
        b.from_contact(frame(2));
        b.clear();
        assert_eq!(b.for_contact(), None);
        assert_eq!(b.for_agent(), frame(0));
    }
}
