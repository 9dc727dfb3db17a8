//! Quality inspection: findings per conversation, and the editable rules.

use super::codec::{decode, encode};
use super::tables::{QA, QA_FINDINGS, QA_SAMPLES};
use super::{Reads, Result, WriteTx};
use crate::model::{ConvId, Finding, QaSettings, Sample};
use redb::{ReadableTable, TableHandle};

const RULES: &str = "rules";

/// Reads of inspection data, in either kind of transaction.
pub trait QaReads: Reads {
    /// The findings of `conv`, in order.
    fn findings_of(&self, conv: ConvId) -> Result<Vec<Finding>> {
        self.table(QA_FINDINGS)?
            .range((conv.0, 0)..=(conv.0, u64::MAX))?
            .map(|row| {
                let (_, v) = row?;
                decode(QA_FINDINGS.name(), v.value())
            })
            .collect()
    }

    /// The latest `limit` findings, newest conversation first.
    fn recent_findings(&self, limit: usize) -> Result<Vec<Finding>> {
        self.table(QA_FINDINGS)?
            .iter()?
            .rev()
            .take(limit)
            .map(|row| {
                let (_, v) = row?;
                decode(QA_FINDINGS.name(), v.value())
            })
            .collect()
    }

    /// Every sample drawn for scoring, by conversation.
    fn samples(&self) -> Result<Vec<Sample>> {
        self.table(QA_SAMPLES)?
            .iter()?
            .map(|row| {
                let (_, v) = row?;
                decode(QA_SAMPLES.name(), v.value())
            })
            .collect()
    }

    /// The sample of `conv`, if it was drawn.
    fn sample(&self, conv: ConvId) -> Result<Option<Sample>> {
        self.table(QA_SAMPLES)?
            .get(conv.0)?
            .map(|v| decode(QA_SAMPLES.name(), v.value()))
            .transpose()
    }

    /// The editable rules (the defaults until saved).
    fn qa_settings(&self) -> Result<QaSettings> {
        Ok(self
            .table(QA)?
            .get(RULES)?
            .map(|v| decode(QA.name(), v.value()))
            .transpose()?
            .unwrap_or_default())
    }
}

impl<T: Reads> QaReads for T {}

impl WriteTx<'_> {
    /// Replaces what inspection found in `conv` (`keep_live` keeps the findings raised
    /// live, e.g. red lines, which the inspection at close finds again anyway).
    pub fn put_findings(&self, conv: ConvId, findings: &[Finding]) -> Result<()> {
        let mut t = self.table(QA_FINDINGS)?;
        let old: Vec<(u64, u64)> = t
            .range((conv.0, 0)..=(conv.0, u64::MAX))?
            .map(|r| r.map(|(k, _)| k.value()))
            .collect::<Result<_, _>>()?;
        for k in old {
            t.remove(k)?;
        }
        for (i, f) in findings.iter().enumerate() {
            t.insert((conv.0, i as u64), encode(f)?.as_slice())?;
        }
        Ok(())
    }

    /// Adds one finding to `conv`'s.
    pub fn add_finding(&self, f: &Finding) -> Result<()> {
        let mut t = self.table(QA_FINDINGS)?;
        let next = t
            .range((f.conv.0, 0)..=(f.conv.0, u64::MAX))?
            .next_back()
            .transpose()?
            .map(|(k, _)| k.value().1 + 1)
            .unwrap_or(0);
        t.insert((f.conv.0, next), encode(f)?.as_slice())?;
        Ok(())
    }

    /// Stores a sample (drawn, scored or marked).
    pub fn put_sample(&self, s: &Sample) -> Result<()> {
        self.table(QA_SAMPLES)?
            .insert(s.conv.0, encode(s)?.as_slice())?;
        Ok(())
    }

    /// Replaces the editable rules.
    pub fn put_qa_settings(&self, s: &QaSettings) -> Result<()> {
        self.table(QA)?.insert(RULES, encode(s)?.as_slice())?;
        Ok(())
    }
}
