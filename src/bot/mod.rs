//! The bot engine: answers a buyer's message from the knowledge base, or recognises
//! that it cannot. `Engine::reply` runs, in order: a pick from the previous guided menu,
//! the built-in intents, questions about the current product, rule entries (exact,
//! keyword, regex) and finally intelligent matching over the tantivy index.

pub mod compose;
pub mod eval;
pub mod index;
mod industry;
pub mod intents;
pub mod kbfile;
pub mod matcher;
pub mod normalize;
pub mod place;
pub mod product;
pub mod rank;
pub mod starter;
mod state;
pub mod tokenize;
pub mod typo;

#[cfg(test)]
mod tests;

use crate::model::{KbEntry, Lexicon, Order, Product, ShopSettings};
use chrono::{DateTime, Utc};
use index::{Location, SearchIndex};
pub use intents::Intent;
use serde::Serialize;
use state::State;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// What can go wrong in the bot.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("search index: {0}")]
    Index(String),
    /// An update older than what the engine already reflects (reload instead).
    #[error("update for KB generation {0} arrived after generation {1}")]
    Stale(u64, u64),
}

impl From<tantivy::TantivyError> for Error {
    fn from(e: tantivy::TantivyError) -> Error {
        Error::Index(e.to_string())
    }
}

/// Shorthand for bot results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the engine is built from.
#[derive(Debug, Clone, Default)]
pub struct KbData {
    pub entries: Vec<KbEntry>,
    pub products: Vec<Product>,
    pub lexicon: Lexicon,
    /// The store's KB generation these come from.
    pub generation: u64,
}

/// How sure the bot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    /// One entry answers.
    Exact,
    /// A numbered menu of the likely entries.
    Guided,
    /// Nothing fits: fall back.
    None,
}

impl Band {
    /// `exact`, `guided` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Exact => "exact",
            Band::Guided => "guided",
            Band::None => "none",
        }
    }

    /// The band's name in the console.
    pub fn label(self) -> &'static str {
        match self {
            Band::Exact => "直接回答",
            Band::Guided => "反问引导",
            Band::None => "未识别",
        }
    }
}

/// What the engine knows about the conversation.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub settings: &'a ShopSettings,
    pub now: DateTime<Utc>,
    /// The SKU of the product the buyer is looking at.
    pub product: Option<&'a str>,
    /// Whether the buyer has an order (after-sale answers).
    pub has_order: bool,
    /// The buyer's orders, newest first, for `{{订单进度}}`.
    pub orders: &'a [Order],
    /// Entry ids of the menu offered on the previous turn.
    pub menu: &'a [String],
    /// How many turns in a row just went unanswered.
    pub unmatched_streak: u32,
    /// The entry the bot answered the previous turn with, for a follow-up that only
    /// names another thing ("那T恤呢").
    pub previous: Option<&'a str>,
    /// What the previous turn's product question asked (`Reply::asked`).
    pub previous_ask: Option<&'a str>,
}

impl<'a> Ctx<'a> {
    /// A context with no product, order, menu or misses.
    pub fn new(settings: &'a ShopSettings, now: DateTime<Utc>) -> Ctx<'a> {
        Ctx {
            settings,
            now,
            product: None,
            has_order: false,
            orders: &[],
            menu: &[],
            unmatched_streak: 0,
            previous: None,
            previous_ask: None,
        }
    }
}

/// One ranked entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub id: String,
    pub question: String,
    /// Match score: the first-stage coverage (0..1) plus the phrasing features
    /// (0..0.6); only comparable within one reply.
    pub score: f32,
}

/// The least match score a smart-assist suggestion needs. Chit-chat that shares a
/// particle or two with the KB ranks entries at 0.1–0.45; a real question, however
/// badly matched, ranks its best entry at 0.5 or more.
const ASSIST_MIN: f32 = 0.3;

/// A KB answer suggested to an agent (smart assist).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assist {
    pub id: String,
    pub question: String,
    /// The match score (comparable within one message's suggestions only).
    pub score: f32,
    /// The answer as the bot would send it in this conversation.
    pub answer: String,
}

/// A suggested next question (答案引导).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    pub id: String,
    pub question: String,
}

/// Why the engine answered as it did, for the "try the bot" box.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Explain {
    /// The normalized message.
    pub normalized: String,
    /// The words matched on (after synonyms and corrections).
    pub terms: Vec<String>,
    /// `(word, canonical)` synonyms applied.
    pub synonyms: Vec<(String, String)>,
    /// `(typo, word)` homophone corrections applied.
    pub corrections: Vec<(String, String)>,
    /// The phrasing of the chosen entry closest to the message.
    pub phrasing: Option<String>,
    /// That phrasing was lent by the starter KB (行业通用问法), not written for the entry.
    pub industry: bool,
    /// Entries dropped because the message matched one of their negative phrasings.
    pub vetoed: Vec<String>,
    /// How the answer was found.
    pub route: Route,
}

/// The path through the engine that produced a reply (`menu`, `intent`, `product`,
/// `search`, `order`, `rule`, `followon` or `match` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// The buyer picked an option of the previous menu.
    Menu,
    /// A built-in intent (转人工, complaint, thanks).
    Intent,
    /// A question about the product, answered from its record.
    Product,
    /// A question in the buyer's own words, answered by the product's attributes that
    /// share most of its words.
    Search,
    /// A message naming one of the buyer's orders, answered with where it stands.
    Order,
    /// An exact, keyword or regex entry.
    Rule,
    /// "那T恤呢": the previous turn's entry again, about another thing.
    FollowOn,
    /// Intelligent matching over the knowledge base.
    #[default]
    Match,
}

impl Route {
    /// The route's name in the console.
    pub fn label(self) -> &'static str {
        match self {
            Route::Menu => "选择了上一轮的选项",
            Route::Intent => "内置意图",
            Route::Product => "商品信息",
            Route::Search => "商品信息（按用词查找）",
            Route::Order => "订单状态",
            Route::Rule => "精确/关键词/正则规则",
            Route::FollowOn => "接着上一问",
            Route::Match => "智能匹配",
        }
    }
}

/// The engine's answer to one message.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub band: Band,
    pub intent: Option<Intent>,
    /// The entry that answered.
    pub entry: Option<String>,
    /// Entries that answered other parts of the same message, in the order asked
    /// ("包邮吗？什么时候发货").
    pub also: Vec<String>,
    /// Calibrated confidence in the top candidate: from 0.72 the bot answers, from 0.55
    /// it offers a menu (values above 1 are possible).
    pub confidence: f32,
    /// The best entries, best first.
    pub candidates: Vec<Candidate>,
    /// The text to send.
    pub answer: String,
    pub follow_ups: Vec<FollowUp>,
    /// The numbered menu offered (pass the ids back as `Ctx::menu`).
    pub menu: Vec<FollowUp>,
    /// Hand the buyer to a human (asked for, complaint, or a second miss in a row).
    pub offer_transfer: bool,
    /// The entry asks to alert a human as well.
    pub notify_human: bool,
    /// Invite a satisfaction rating (positive intent).
    pub rating_invite: bool,
    /// The product the answer is about.
    pub product: Option<String>,
    /// What a product question asked, to ask again of another product ("多少钱", then
    /// "那鞋子呢"): pass it back as `Ctx::previous_ask`.
    #[serde(skip)]
    pub asked: Option<String>,
    /// The scene (场景) of the entry that answered.
    pub scene: Option<String>,
    pub explain: Explain,
}

impl Reply {
    /// The ids of the options offered, for the next turn's `Ctx::menu`: the menu, or
    /// else the follow-up questions ("第二个" picks the second of either).
    pub fn menu_ids(&self) -> Vec<String> {
        let offered = if self.menu.is_empty() {
            &self.follow_ups
        } else {
            &self.menu
        };
        offered.iter().map(|m| m.id.clone()).collect()
    }
}

/// Industry phrasings an entry borrows (行业通用问法).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Borrowed {
    /// Standard questions of the lending starter entries.
    pub from: Vec<String>,
    /// The lent phrasings.
    pub phrasings: Vec<String>,
}

/// The bot: the knowledge base in memory and in the tantivy index.
pub struct Engine {
    index: SearchIndex,
    /// Whether opening had to rebuild the index (a cold start).
    rebuilt: bool,
    state: RwLock<Arc<State>>,
    /// Serializes updates (state swap and index commit happen together).
    updating: Mutex<()>,
    /// Recent replies: buyers ask the same few questions over and over.
    cache: Mutex<ReplyCache>,
}

/// Replies already worked out for the current knowledge base, by everything a reply
/// depends on. Emptied when the knowledge base changes (a new `State`) and when full.
#[derive(Default)]
struct ReplyCache {
    /// The state the replies were made with (held, so it is never mistaken for another).
    state: Option<Arc<State>>,
    replies: HashMap<CacheKey, Arc<Reply>>,
}

/// Replies cached at most.
const CACHE_SIZE: usize = 4096;
/// Longest message whose reply is cached (long ones rarely repeat).
const CACHE_TEXT: usize = 64;

#[derive(PartialEq, Eq, Hash)]
struct CacheKey {
    text: String,
    product: Option<String>,
    has_order: bool,
    /// The order `{{订单进度}}` tells of: id, status and logistics.
    order: u64,
    menu: Vec<String>,
    /// Whether the previous turn went unanswered (a second miss hands over).
    missed: bool,
    previous: Option<String>,
    previous_ask: Option<String>,
    /// The settings fill answer variables.
    settings: u64,
    /// Entries start and stop answering at validity boundaries.
    epoch: usize,
}

impl CacheKey {
    fn new(s: &State, ctx: &Ctx, text: &str) -> CacheKey {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        ctx.settings.hash(&mut h);
        let mut o = std::collections::hash_map::DefaultHasher::new();
        for x in ctx.orders {
            (&x.order_id, &x.status, &x.logistics, x.updated_at).hash(&mut o);
        }
        CacheKey {
            text: text.to_string(),
            product: ctx.product.map(String::from),
            has_order: ctx.has_order,
            order: o.finish(),
            menu: ctx.menu.to_vec(),
            missed: ctx.unmatched_streak >= 1,
            previous: ctx.previous.map(String::from),
            previous_ask: ctx.previous_ask.map(String::from),
            settings: h.finish(),
            epoch: s.epoch(ctx.now),
        }
    }
}

impl Engine {
    /// Builds the engine from `data`; a current index at `loc` is reused.
    pub fn open(loc: Location, data: KbData) -> Result<Engine> {
        let state = State::build(data);
        let (index, rebuilt) =
            SearchIndex::open(&loc, &state.analyzer, state.generation, || state.docs())?;
        Ok(Engine {
            index,
            rebuilt,
            state: RwLock::new(Arc::new(state)),
            updating: Mutex::new(()),
            cache: Mutex::default(),
        })
    }

    fn current(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn swap(&self, s: State) {
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(s);
    }

    /// What entry `id` borrows (see `industry`): the standard questions of the
    /// starter entries lending to it and the phrasings they lend, in index order.
    /// Empty for an entry that borrows nothing or is not in the knowledge base.
    pub fn borrowed(&self, id: &str) -> Borrowed {
        let s = self.current();
        let Some(p) = s.entries.get(id) else {
            return Borrowed::default();
        };
        Borrowed {
            from: industry::questions(&p.industry),
            phrasings: p
                .phrasings
                .iter()
                .filter(|ph| ph.industry)
                .map(|ph| ph.text.clone())
                .collect(),
        }
    }

    /// Answers `text` in `ctx`. Never fails: any input gives a reply.
    pub fn reply(&self, ctx: &Ctx, text: &str) -> Reply {
        Arc::unwrap_or_clone(self.reply_shared(ctx, text))
    }

    /// [`Engine::reply`], shared with the reply cache instead of copied out of it: a
    /// reply with its candidates and explanation is a few dozen allocations, and the
    /// buyer's message path only reads it.
    pub fn reply_shared(&self, ctx: &Ctx, text: &str) -> Arc<Reply> {
        let s = self.current();
        if text.chars().count() > CACHE_TEXT {
            return Arc::new(matcher::reply(&s, &self.index, ctx, text));
        }
        let key = CacheKey::new(&s, ctx, text);
        if let Some(r) = self.cached(&s, &key) {
            return r;
        }
        let r = Arc::new(matcher::reply(&s, &self.index, ctx, text));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.state.as_ref().is_some_and(|c| Arc::ptr_eq(c, &s)) {
            if cache.replies.len() >= CACHE_SIZE {
                cache.replies.clear();
            }
            cache.replies.insert(key, r.clone());
        }
        r
    }

    /// The cached reply for `key` under state `s`; a cache of another state is emptied.
    fn cached(&self, s: &Arc<State>, key: &CacheKey) -> Option<Arc<Reply>> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if !cache.state.as_ref().is_some_and(|c| Arc::ptr_eq(c, s)) {
            cache.state = Some(s.clone());
            cache.replies.clear();
            return None;
        }
        cache.replies.get(key).cloned()
    }

    /// Adds or replaces one entry (already stored as of `generation`).
    pub fn put_entry(&self, entry: KbEntry, generation: u64) -> Result<()> {
        let _guard = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = (*self.current()).clone();
        if generation <= s.generation {
            return Err(Error::Stale(generation, s.generation));
        }
        let id = entry.id.clone();
        let relinked = s.put(entry, generation);
        let docs: Vec<(&str, Option<String>)> = std::iter::once(&id)
            .chain(&relinked)
            .map(|id| (id.as_str(), s.doc_text(id)))
            .collect();
        self.index.put(&docs, generation)?;
        self.swap(s);
        Ok(())
    }

    /// Removes one entry (already deleted from the store as of `generation`).
    pub fn remove_entry(&self, id: &str, generation: u64) -> Result<()> {
        let _guard = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = (*self.current()).clone();
        if generation <= s.generation {
            return Err(Error::Stale(generation, s.generation));
        }
        let relinked = s.remove(id, generation);
        let docs: Vec<(&str, Option<String>)> = std::iter::once((id, None))
            .chain(relinked.iter().map(|id| (id.as_str(), s.doc_text(id))))
            .collect();
        self.index.put(&docs, generation)?;
        self.swap(s);
        Ok(())
    }

    /// Rebuilds everything from `data` (imports, lexicon or product changes).
    pub fn reload(&self, data: KbData) -> Result<()> {
        let _guard = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        let s = State::build(data);
        self.index.use_analyzer(&s.analyzer);
        self.index.rebuild(s.docs(), s.generation)?;
        self.swap(s);
        Ok(())
    }

    /// Whether opening rebuilt the index (missing, stale or from another schema).
    pub fn rebuilt_on_open(&self) -> bool {
        self.rebuilt
    }

    /// The KB generation the engine reflects.
    pub fn generation(&self) -> u64 {
        self.current().generation
    }

    /// How many entries the engine holds (all, including disabled ones).
    pub fn entry_count(&self) -> usize {
        self.current().entries.len()
    }

    /// The product with `sku`.
    pub fn product(&self, sku: &str) -> Option<Product> {
        self.current().product(sku).cloned()
    }

    /// The words of `text` (normalized) as the bot's dictionary cuts them, shop words
    /// included.
    pub fn cut(&self, text: &str) -> Vec<String> {
        self.current().analyzer.cut(&normalize::normalize(text))
    }

    /// Whether entry `id` is small talk: its standard question names nothing (在吗,
    /// 在不在). Not worth offering as a question to click.
    pub fn small_talk(&self, id: &str) -> bool {
        self.current().entries.get(id).is_some_and(|p| {
            p.phrasings
                .first()
                .is_some_and(|ph| tokenize::is_vague(&ph.content))
        })
    }

    /// The standard question of entry `id`, if it answers at `now`.
    pub fn question(&self, id: &str, now: DateTime<Utc>) -> Option<FollowUp> {
        let state = self.current();
        let p = state.entries.get(id)?;
        p.entry.active_at(now).then(|| FollowUp {
            id: p.entry.id.clone(),
            question: p.entry.question.clone(),
        })
    }

    /// Smart assist for an agent: the best `n` entries for the buyer's `text`, each with
    /// its score and its answer written for the context (product, pre/after-sale,
    /// variables filled, its 回复“转人工” clauses said as the agent would), best first.
    /// Entries out of their validity period, and ones
    /// that share next to nothing with the text, are left out; a question about the
    /// product in view gets the product record's answer first. `None` when the text
    /// asks nothing of the KB (转人工, thanks): the agent wants help with an earlier
    /// message. A call for a human with a question beside it is helped with that.
    pub fn assist(&self, ctx: &Ctx, text: &str, n: usize) -> Option<Vec<Assist>> {
        let state = self.current();
        let product = ctx.product.and_then(|sku| state.product(sku));
        let mut reply = self.reply(ctx, text);
        if reply.intent == Some(Intent::Transfer) {
            // "我想问问能不能开发票 转人工": help with the question beside the call.
            let asked = intents::beside_transfer(&reply.explain.normalized)?;
            reply = self.reply(ctx, &asked);
        }
        if matches!(reply.intent, Some(Intent::Transfer | Intent::Positive)) {
            return None;
        }
        // A question about the product in view: its record answers first.
        let from_record = matches!(reply.explain.route, Route::Product | Route::Search)
            .then(|| {
                let p = state.product(reply.product.as_deref()?)?;
                Some(Assist {
                    id: p.sku.clone(),
                    question: format!("商品信息：{}", p.name),
                    answer: reply.answer.clone(),
                    score: reply.confidence,
                })
            })
            .flatten();
        let about = compose::orders_about(&reply.explain.normalized, ctx.orders);
        let found = from_record
            .into_iter()
            .chain(reply.candidates.into_iter().filter_map(|c| {
                let p = state.entries.get(&c.id)?;
                (c.score >= ASSIST_MIN && p.entry.active_at(ctx.now)).then(|| Assist {
                    answer: compose::for_agent(&compose::fill(
                        compose::choose(&p.entry, product, ctx.has_order, !about.is_empty()),
                        ctx.settings,
                        product,
                        &about,
                    )),
                    id: c.id,
                    question: c.question,
                    score: c.score,
                })
            }))
            .take(n)
            .collect();
        Some(found)
    }

    /// Standard questions starting with or containing `prefix` (预输入), most
    /// specific first, at most `limit`.
    pub fn suggest(&self, prefix: &str, limit: usize, now: DateTime<Utc>) -> Vec<FollowUp> {
        self.current().suggest(prefix, limit, now)
    }
}
