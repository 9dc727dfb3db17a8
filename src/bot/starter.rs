//! The starter knowledge base shipped in the binary (行业知识库): general e-commerce
//! questions with answers that use the shop's settings as variables. It is loaded into
//! an empty store on first run.

use super::kbfile::{self, Format};
use crate::model::KbEntry;

/// The starter entries as JSON Lines.
pub const KB: &str = include_str!("starter/kb.jsonl");

/// The starter entries (empty, with an error logged, if the embedded file were broken —
/// a unit test guarantees it is not).
pub fn entries() -> Vec<KbEntry> {
    match kbfile::read(KB.as_bytes(), Format::JsonLines, chrono_tz::Asia::Shanghai) {
        Ok(entries) => entries,
        Err(bad) => {
            tracing::error!(?bad, "the embedded starter KB is invalid");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn the_starter_kb_is_complete_and_consistent() {
        let entries = kbfile::read(KB.as_bytes(), Format::JsonLines, chrono_tz::Asia::Shanghai)
            .expect("valid starter KB");
        assert!(entries.len() >= 120, "{} entries", entries.len());
        let ids: HashSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        let mut per_category: HashMap<&str, usize> = HashMap::new();
        for e in &entries {
            assert!(
                e.similar.len() >= 4,
                "{} has {} similar phrasings",
                e.id,
                e.similar.len()
            );
            for f in &e.follow_ups {
                assert!(
                    ids.contains(f.as_str()),
                    "{} follows up with unknown {f}",
                    e.id
                );
            }
            *per_category.entry(e.category.as_str()).or_default() += 1;
        }
        for c in ["物流", "售前", "售后", "活动", "商品", "账户/支付"] {
            assert!(
                per_category.get(c).copied().unwrap_or(0) >= 5,
                "category {c}: {per_category:?}"
            );
        }
        let with_vars = entries.iter().filter(|e| e.answer.contains("{{")).count();
        assert!(with_vars >= 20, "{with_vars} entries use variables");
    }
}
