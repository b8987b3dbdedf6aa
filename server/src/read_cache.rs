//! Public reads that a crowd repeats, computed at most once per change instead of once per
//! request (issue 18 "Public reads are O(page), not O(board)").
//!
//! [`Published`] keeps, per campaign, the last answer computed and the version it was computed
//! for (for turnout: the number of slots ended, since a slot's figure is published only once it
//! has ended). A request for the same version is a map lookup; a new version recomputes once.
//! Each server keeps its own copy, so several servers compute each version once each.

use std::collections::HashMap;
use std::sync::Mutex;

/// Per campaign, the latest `(version, answer)`.
#[derive(Default)]
pub struct Published {
    answers: Mutex<HashMap<String, (u64, serde_json::Value)>>,
    computing: tokio::sync::Mutex<()>,
}

impl Published {
    /// Held while an answer is computed: the requests that missed the same version wait for it
    /// and then find it kept, instead of all computing it at once (a crowd at a slot boundary).
    pub async fn computing(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.computing.lock().await
    }

    /// The answer kept for `campaign` at `version`, if any.
    pub fn get(&self, campaign: &str, version: u64) -> Option<serde_json::Value> {
        let map = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(campaign).filter(|(v, _)| *v == version).map(|(_, a)| a.clone())
    }

    /// Keeps `answer` for `campaign` at `version` unless a later version is kept already.
    pub fn put(&self, campaign: &str, version: u64, answer: serde_json::Value) {
        let mut map = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(campaign) {
            Some((v, _)) if *v > version => {}
            _ => {
                map.insert(campaign.to_owned(), (version, answer));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_per_campaign_and_version() {
        let p = Published::default();
        assert!(p.get("c", 1).is_none());
        p.put("c", 1, serde_json::json!(1));
        assert_eq!(p.get("c", 1), Some(serde_json::json!(1)));
        assert!(p.get("c", 2).is_none(), "a new version is computed afresh");
        assert!(p.get("d", 1).is_none());
        p.put("c", 3, serde_json::json!(3));
        p.put("c", 2, serde_json::json!(2));
        assert_eq!(p.get("c", 3), Some(serde_json::json!(3)), "an older answer never replaces a newer one");
    }
}
