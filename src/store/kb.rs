//! Knowledge-base entries, products and the trainer's lexicon. Every write here bumps
//! the KB generation, which the search index records so a stale index is detected.

use super::codec::{decode, encode};
use super::tables::{KB, LEXICON, META, PRODUCTS};
use super::{Reads, Result, WriteTx};
use crate::model::{KbEntry, Lexicon, Product};
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle};

/// The meta key counting KB changes.
pub const GENERATION_KEY: &str = "kb.generation";
/// The meta key set once the starter KB has been offered, so deleting every entry does
/// not bring it back.
pub const SEEDED_KEY: &str = "kb.seeded";
const LEXICON_KEY: &str = "lexicon";

type Docs = TableDefinition<'static, &'static str, &'static [u8]>;

fn meta_in(t: &impl ReadableTable<&'static str, u64>, key: &str) -> Result<Option<u64>> {
    Ok(t.get(key)?.map(|v| v.value()))
}

fn list<T: serde::de::DeserializeOwned>(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &'static str,
) -> Result<Vec<T>> {
    t.iter()?
        .map(|row| {
            let (_, v) = row?;
            decode(name, v.value())
        })
        .collect()
}

fn keys(t: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<Vec<String>> {
    t.iter()?
        .map(|r| r.map(|(k, _)| k.value().to_string()).map_err(Into::into))
        .collect()
}

fn get<T: serde::de::DeserializeOwned>(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &'static str,
    key: &str,
) -> Result<Option<T>> {
    t.get(key)?.map(|v| decode(name, v.value())).transpose()
}

/// Reads of this file's tables, in a read or a write transaction.
pub trait KbReads: Reads {
    /// The entry with `id`.
    fn get_entry(&self, id: &str) -> Result<Option<KbEntry>> {
        get(&*self.table(KB)?, KB.name(), id)
    }

    /// Every entry, by id.
    fn list_entries(&self) -> Result<Vec<KbEntry>> {
        list(&*self.table(KB)?, KB.name())
    }

    /// Every entry id (without decoding the entries).
    fn entry_ids(&self) -> Result<Vec<String>> {
        keys(&*self.table(KB)?)
    }

    /// How many entries exist.
    fn count_entries(&self) -> Result<u64> {
        Ok(self.table(KB)?.len()?)
    }

    /// The product with `sku`.
    fn get_product(&self, sku: &str) -> Result<Option<Product>> {
        get(&*self.table(PRODUCTS)?, PRODUCTS.name(), sku)
    }

    /// Every product SKU (without decoding the products).
    fn product_skus(&self) -> Result<Vec<String>> {
        keys(&*self.table(PRODUCTS)?)
    }

    /// Every product, by SKU.
    fn list_products(&self) -> Result<Vec<Product>> {
        list(&*self.table(PRODUCTS)?, PRODUCTS.name())
    }

    /// The trainer's lexicon (empty until saved).
    fn get_lexicon(&self) -> Result<Lexicon> {
        Ok(get(&*self.table(LEXICON)?, LEXICON.name(), LEXICON_KEY)?.unwrap_or_default())
    }

    /// How many KB, product or lexicon changes were ever committed.
    fn kb_generation(&self) -> Result<u64> {
        Ok(meta_in(&*self.table(META)?, GENERATION_KEY)?.unwrap_or(0))
    }

    /// Whether the starter KB was already offered to this store.
    fn kb_seeded(&self) -> Result<bool> {
        Ok(meta_in(&*self.table(META)?, SEEDED_KEY)?.is_some())
    }
}

impl<T: Reads> KbReads for T {}

impl WriteTx<'_> {
    fn bump_generation(&self) -> Result<u64> {
        let mut meta = self.table(META)?;
        let next = meta.get(GENERATION_KEY)?.map(|v| v.value()).unwrap_or(0) + 1;
        meta.insert(GENERATION_KEY, next)?;
        Ok(next)
    }

    fn put_doc<T: serde::Serialize>(&self, def: Docs, key: &str, doc: &T) -> Result<u64> {
        self.table(def)?.insert(key, encode(doc)?.as_slice())?;
        self.bump_generation()
    }

    fn delete_doc(&self, def: Docs, key: &str) -> Result<bool> {
        let existed = self.table(def)?.remove(key)?.is_some();
        if existed {
            self.bump_generation()?;
        }
        Ok(existed)
    }

    /// Stores (creates or replaces) an entry; returns the new KB generation.
    pub fn put_entry(&self, entry: &KbEntry) -> Result<u64> {
        self.put_doc(KB, &entry.id, entry)
    }

    /// Removes an entry, and its id from other entries' follow-ups (an entry never
    /// names a missing one: the KB's own export must import again); `false` when there
    /// was none.
    pub fn delete_entry(&self, id: &str) -> Result<bool> {
        let existed = self.delete_doc(KB, id)?;
        if existed {
            for mut e in self.list_entries()? {
                if e.follow_ups.iter().any(|f| f == id) {
                    e.follow_ups.retain(|f| f != id);
                    self.put_entry(&e)?;
                }
            }
        }
        Ok(existed)
    }

    /// Removes every entry (for a replacing import).
    pub fn clear_entries(&self) -> Result<()> {
        for id in self.entry_ids()? {
            self.delete_doc(KB, &id)?;
        }
        Ok(())
    }

    /// Stores (creates or replaces) a product.
    pub fn put_product(&self, p: &Product) -> Result<u64> {
        self.put_doc(PRODUCTS, &p.sku, p)
    }

    /// Removes a product, its SKU from other products' related lists and the entries'
    /// answers written for it; `false` when there was none.
    pub fn delete_product(&self, sku: &str) -> Result<bool> {
        let existed = self.delete_doc(PRODUCTS, sku)?;
        if existed {
            for mut p in self.list_products()? {
                if p.related.iter().any(|r| r == sku) {
                    p.related.retain(|r| r != sku);
                    self.put_product(&p)?;
                }
            }
            for mut e in self.list_entries()? {
                if e.product_answers.remove(sku).is_some() {
                    self.put_entry(&e)?;
                }
            }
        }
        Ok(existed)
    }

    /// Replaces the trainer's lexicon.
    pub fn put_lexicon(&self, l: &Lexicon) -> Result<u64> {
        self.put_doc(LEXICON, LEXICON_KEY, l)
    }

    /// Records that the starter KB was offered.
    pub fn mark_kb_seeded(&self) -> Result<()> {
        self.table(META)?.insert(SEEDED_KEY, 1)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{KbEntry, Lexicon, Price, Product};
    use crate::store::prelude::*;
    use crate::store::testing::temp_store;

    #[actix_web::test]
    async fn entries_products_and_lexicon_round_trip_and_bump_the_generation() {
        let (_dir, store) = temp_store();
        assert_eq!(store.read().unwrap().kb_generation().unwrap(), 0);
        let mut e = KbEntry::new("ship-when", "什么时候发货", "48小时内");
        e.similar = vec!["几天发货".into()];
        let mut p = Product::new("A1", "纯棉T恤");
        p.price = Some(Price(9900));
        let lex = Lexicon {
            synonyms: vec![vec!["快递".into(), "物流".into()]],
            words: vec!["小二牌".into()],
        };
        let (e2, p2, l2) = (e.clone(), p.clone(), lex.clone());
        let generation = store
            .write(move |tx| {
                tx.put_entry(&e2)?;
                tx.put_product(&p2)?;
                tx.put_lexicon(&l2)
            })
            .await
            .unwrap();
        assert_eq!(generation, 3);
        let r = store.read().unwrap();
        assert_eq!(r.get_entry("ship-when").unwrap(), Some(e));
        assert_eq!(r.list_products().unwrap(), vec![p]);
        assert_eq!(r.get_lexicon().unwrap(), lex);
        assert_eq!(r.count_entries().unwrap(), 1);
        drop(r);

        let gone = store
            .write(|tx| tx.delete_entry("ship-when"))
            .await
            .unwrap();
        assert!(gone);
        let again = store
            .write(|tx| tx.delete_entry("ship-when"))
            .await
            .unwrap();
        assert!(!again);
        assert_eq!(
            store.read().unwrap().kb_generation().unwrap(),
            4,
            "a no-op delete does not bump"
        );
    }

    #[actix_web::test]
    async fn deleting_an_entry_or_product_removes_the_references_to_it() {
        let (_dir, store) = temp_store();
        let mut src = KbEntry::new("src", "能刻字吗", "能");
        src.follow_ups = vec!["target".into(), "other".into()];
        src.product_answers
            .insert("BAG-1".into(), "小号不能刻字".into());
        src.product_answers
            .insert("CUP".into(), "杯子能刻字".into());
        let entries = [
            src,
            KbEntry::new("target", "刻字要钱吗", "免费"),
            KbEntry::new("other", "几天发货", "两天"),
        ];
        let mut big = Product::new("BAG-2", "帆布包大号");
        big.related = vec!["BAG-1".into(), "CUP".into()];
        let products = [
            big,
            Product::new("BAG-1", "帆布包"),
            Product::new("CUP", "杯"),
        ];
        store
            .write(move |tx| {
                for e in &entries {
                    tx.put_entry(e)?;
                }
                for p in &products {
                    tx.put_product(p)?;
                }
                tx.delete_entry("target")?;
                tx.delete_product("BAG-1")
            })
            .await
            .unwrap();
        let r = store.read().unwrap();
        let src = r.get_entry("src").unwrap().unwrap();
        assert_eq!(src.follow_ups, ["other"]);
        assert_eq!(
            src.product_answers.keys().collect::<Vec<_>>(),
            ["CUP"],
            "the deleted product's answer goes with it"
        );
        let bag = r
            .list_products()
            .unwrap()
            .into_iter()
            .find(|p| p.sku == "BAG-2");
        assert_eq!(bag.unwrap().related, ["CUP"]);
    }
}
