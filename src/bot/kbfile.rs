//! Knowledge-base files: JSON Lines (one entry per line, the shape of `KbEntry`; numeric
//! ids are accepted) and CSV (UTF-8 with BOM so Excel opens it; list cells hold one item
//! per line). Reading checks every row and reports all bad ones by line number.

use crate::model::{KbEntry, MatchMode, Price, Product};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufRead, Read, Write};

/// A problem with one line of an input file.
pub type BadLine = (usize, String);

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
}

impl Format {
    /// Guesses the format from a file name: `.csv` is CSV, anything else JSON Lines.
    pub fn from_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::JsonLines,
        }
    }
}

/// Reads entries from `input`, checking each and the file as a whole (unique ids).
/// Every bad line is reported, whether it is not JSON at all or an entry that breaks a
/// rule.
pub fn read(input: impl Read, format: Format, tz: Tz) -> Result<Vec<KbEntry>, Vec<BadLine>> {
    let (entries, bad) = read_checked(input, format, tz);
    if bad.is_empty() {
        Ok(entries.into_iter().map(|(_, e)| e).collect())
    } else {
        Err(bad)
    }
}

/// The good entries of a file, with their line numbers, and every bad line, sorted:
/// callers add their own checks on the good ones to report everything at once.
pub fn read_checked(
    input: impl Read,
    format: Format,
    tz: Tz,
) -> (Vec<(usize, KbEntry)>, Vec<BadLine>) {
    let (rows, mut bad) = match format {
        Format::JsonLines => read_jsonl(io::BufReader::new(input)),
        Format::Csv => read_csv(input, tz),
    };
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(rows.len());
    for (line, entry) in rows {
        let entry = entry.normalized();
        if let Err(inv) = entry.validate() {
            bad.push((line, inv.to_string()));
        } else if !seen.insert(entry.id.clone()) {
            bad.push((line, format!("编号 {} 重复", entry.id)));
        } else {
            entries.push((line, entry));
        }
    }
    bad.sort_by_key(|(line, _)| *line);
    (entries, bad)
}

fn read_jsonl(input: impl BufRead) -> (Vec<(usize, KbEntry)>, Vec<BadLine>) {
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(_) => {
                bad.push((n, "不是有效的 UTF-8 文本".into()));
                continue;
            }
        };
        let line = line.trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        match crate::model::json::parse_line::<KbEntry>(line) {
            Ok(e) => rows.push((n, e)),
            Err(why) => bad.push((n, format!("JSON 有误：{why}"))),
        }
    }
    (rows, bad)
}

/// CSV columns, in file order.
const COLUMNS: &[&str] = &[
    "id",
    "question",
    "similar",
    "negative",
    "answer",
    "pre_sale_answer",
    "after_sale_answer",
    "category",
    "scene",
    "follow_ups",
    "enabled",
    "notify_human",
    "valid_from",
    "valid_until",
    "match_mode",
    "keywords",
    "pattern",
    "product_answers",
    "industry",
];

/// The non-empty lines of a list cell or text box, trimmed (one item per line).
pub fn lines(cell: &str) -> Vec<String> {
    cell.lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The SKUs of a cell: one per line, or separated by spaces, commas or 、 ("NZ-01 NZ-03",
/// "A1,A2"); SKUs hold no spaces.
pub fn skus(cell: &str) -> Vec<String> {
    cell.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；'))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn flag(cell: &str, default: bool) -> Result<bool, String> {
    match cell.trim() {
        "" => Ok(default),
        "1" | "true" | "yes" | "是" | "开" | "on" => Ok(true),
        "0" | "false" | "no" | "否" | "关" | "off" => Ok(false),
        other => Err(format!("“{other}”不是是/否")),
    }
}

/// Parses RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DD` in the shop's time zone.
/// Slashes work as dashes: Excel rewrites dates as `2026/11/24 10:37`.
pub fn parse_time(cell: &str, tz: Tz) -> Result<Option<DateTime<Utc>>, String> {
    let s = cell.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let dashed = s.replace('/', "-");
    let naive = NaiveDateTime::parse_from_str(&dashed, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(&dashed, "%Y-%m-%d %H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(&format!("{dashed} 00:00"), "%Y-%m-%d %H:%M"))
        .map_err(|_| format!("时间“{s}”格式应为 2026-11-11 00:00"))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| format!("时间“{s}”在时区 {tz} 中不存在"))
}

fn read_csv(input: impl Read, tz: Tz) -> (Vec<(usize, KbEntry)>, Vec<BadLine>) {
    read_csv_rows(input, &["id", "question", "answer"], |r, cols| {
        csv_entry(r, cols, tz)
    })
}

/// Reads CSV rows (BOM skipped, header row naming the columns, `required` columns
/// present) into `T`: the good rows and every bad one, by line number.
fn read_csv_rows<T>(
    input: impl Read,
    required: &[&str],
    row: impl Fn(&csv::StringRecord, &HashMap<String, usize>) -> Result<T, String>,
) -> (Vec<(usize, T)>, Vec<BadLine>) {
    let whole = |line: usize, why: String| (Vec::new(), vec![(line, why)]);
    let bytes = match utf8_or_gbk(input) {
        Ok(b) => b,
        Err(e) => return whole(1, format!("无法读取文件：{e}")),
    };
    let text = bytes
        .strip_prefix(&[0xEF, 0xBB, 0xBF][..])
        .unwrap_or(&bytes);
    // Line numbers counted here: the csv reader's own are one short after a CRLF
    // header, and Excel writes CRLF.
    let line_at = |p: Option<&csv::Position>| {
        p.map_or(0, |p| {
            // A record's position may be the line end before it.
            let mut at = (p.byte() as usize).min(text.len());
            while text.get(at).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                at += 1;
            }
            1 + text[..at].iter().filter(|b| **b == b'\n').count()
        })
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return whole(1, csv_trouble(&e)),
    };
    let cols: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_string(), i))
        .collect();
    for required in required {
        if !cols.contains_key(*required) {
            return whole(1, format!("缺少列 {required}"));
        }
    }
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = line_at(e.position());
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    // The whole file is in another encoding: one line says it all.
                    return whole(line, csv_trouble(&e));
                }
                bad.push((line, csv_trouble(&e)));
                continue;
            }
        };
        let line = line_at(record.position());
        match row(&record, &cols) {
            Ok(e) => rows.push((line, e)),
            Err(why) => bad.push((line, why)),
        }
    }
    (rows, bad)
}

/// The file's bytes as UTF-8: as they are, or decoded from GBK (GB 18030), which is
/// what Excel saves CSV in on Chinese Windows. Bytes that are neither stay as they are,
/// for the reader to report.
fn utf8_or_gbk(mut input: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    if std::str::from_utf8(&bytes).is_err() {
        let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
        if !had_errors {
            return Ok(text.into_owned().into_bytes());
        }
    }
    Ok(bytes)
}

/// What is wrong with a CSV file, in words a seller can act on (the csv crate's own
/// message is English and technical).
fn csv_trouble(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "文件编码无法识别（支持 UTF-8 和 GBK）：请在 Excel 里“另存为”，保存类型选“CSV UTF-8（逗号分隔）”后再导入".into(),
        csv::ErrorKind::Io(io) => format!("无法读取文件：{io}"),
        _ => "CSV 格式有误，请检查引号和逗号是否成对".into(),
    }
}

/// The product file's columns, in order.
const PRODUCT_COLUMNS: [&str; 10] = [
    "sku",
    "name",
    "aliases",
    "price",
    "final_price",
    "stock",
    "link",
    "image",
    "related",
    "attributes",
];

/// Reads products from CSV (the columns of `write_products`; `sku` and `name`
/// required), checking every row and the file as a whole (unique SKUs).
pub fn read_products(input: impl Read) -> Result<Vec<Product>, Vec<BadLine>> {
    let (rows, mut bad) = read_csv_rows(input, &["sku", "name"], |r, cols| {
        let get = |name: &str| cols.get(name).and_then(|&i| r.get(i)).unwrap_or("").trim();
        // Every problem of the row is reported at once, not the first only.
        let mut problems: Vec<String> = Vec::new();
        let mut price = |name: &str| match get(name) {
            "" => None,
            s => Price::parse(s).or_else(|| {
                problems.push(format!("{name}“{s}”不是价格"));
                None
            }),
        };
        let mut p = Product::new(get("sku"), get("name"));
        p.aliases = lines(get("aliases"));
        p.price = price("price");
        p.final_price = price("final_price");
        p.stock = match get("stock") {
            "" => None,
            s => s
                .parse()
                .map_err(|_| problems.push(format!("库存“{s}”不是整数")))
                .ok(),
        };
        p.link = Some(get("link").to_string()).filter(|l| !l.is_empty());
        p.image = Some(get("image").to_string()).filter(|l| !l.is_empty());
        p.related = skus(get("related"));
        for l in lines(get("attributes")) {
            match l.split_once(['=', '＝', ':', '：']) {
                Some((k, v)) => {
                    p.attributes
                        .insert(k.trim().to_string(), v.trim().to_string());
                }
                None => problems.push(format!("属性“{l}”应写成 名称=值")),
            }
        }
        if let Err(inv) = p.validate() {
            problems.push(inv.to_string());
        }
        if problems.is_empty() {
            Ok(p)
        } else {
            Err(problems.join("；"))
        }
    });
    let mut seen = HashSet::new();
    bad.extend(
        rows.iter()
            .filter(|(_, p)| !seen.insert(p.sku.clone()))
            .map(|(line, p)| (*line, format!("商品编码 {} 重复", p.sku))),
    );
    bad.sort_by_key(|(line, _)| *line);
    if bad.is_empty() {
        Ok(rows.into_iter().map(|(_, p)| p).collect())
    } else {
        Err(bad)
    }
}

/// Writes products as CSV with a BOM (Excel); list cells hold one item per line.
pub fn write_products(out: &mut impl Write, products: &[Product]) -> io::Result<()> {
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(&mut *out);
    w.write_record(PRODUCT_COLUMNS)?;
    let opt = |p: Option<Price>| p.map(|p| p.to_string()).unwrap_or_default();
    for p in products {
        let attrs: Vec<String> = p
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        w.write_record([
            p.sku.as_str(),
            &p.name,
            &p.aliases.join("\n"),
            &opt(p.price),
            &opt(p.final_price),
            &p.stock.map(|s| s.to_string()).unwrap_or_default(),
            p.link.as_deref().unwrap_or(""),
            p.image.as_deref().unwrap_or(""),
            &p.related.join("\n"),
            &attrs.join("\n"),
        ])?;
    }
    w.flush()
}

fn csv_entry(
    record: &csv::StringRecord,
    cols: &HashMap<String, usize>,
    tz: Tz,
) -> Result<KbEntry, String> {
    let get = |name: &str| cols.get(name).and_then(|&i| record.get(i)).unwrap_or("");
    let mut e = KbEntry::new(get("id"), get("question"), get("answer"));
    e.similar = lines(get("similar"));
    e.negative = lines(get("negative"));
    e.pre_sale_answer = Some(get("pre_sale_answer").to_string());
    e.after_sale_answer = Some(get("after_sale_answer").to_string());
    e.category = get("category").into();
    e.scene = get("scene").into();
    e.follow_ups = lines(get("follow_ups"));
    e.enabled = flag(get("enabled"), true)?;
    e.notify_human = flag(get("notify_human"), false)?;
    e.industry = flag(get("industry"), true)?;
    e.valid_from = parse_time(get("valid_from"), tz)?;
    e.valid_until = parse_time(get("valid_until"), tz)?;
    e.match_mode = MatchMode::parse(get("match_mode")).ok_or_else(|| {
        format!(
            "匹配方式“{}”应为 intelligent/exact/keyword/regex",
            get("match_mode")
        )
    })?;
    e.keywords = lines(get("keywords"));
    e.pattern = Some(get("pattern").to_string());
    e.product_answers = lines(get("product_answers"))
        .into_iter()
        .map(|l| match l.split_once('=') {
            Some((sku, a)) => Ok((sku.trim().to_string(), a.trim().to_string())),
            None => Err(format!("商品答案“{l}”应写成 SKU=答案")),
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    Ok(e)
}

/// Writes entries in `format`; CSV starts with a BOM for Excel.
pub fn write(out: &mut impl Write, entries: &[KbEntry], format: Format, tz: Tz) -> io::Result<()> {
    match format {
        Format::JsonLines => {
            for e in entries {
                serde_json::to_writer(&mut *out, e)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            out.write_all(b"\xEF\xBB\xBF")?;
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(COLUMNS)?;
            let time = |t: Option<DateTime<Utc>>| {
                t.map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default()
            };
            for e in entries {
                let products: Vec<String> = e
                    .product_answers
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                w.write_record([
                    e.id.as_str(),
                    &e.question,
                    &e.similar.join("\n"),
                    &e.negative.join("\n"),
                    &e.answer,
                    e.pre_sale_answer.as_deref().unwrap_or(""),
                    e.after_sale_answer.as_deref().unwrap_or(""),
                    &e.category,
                    &e.scene,
                    &e.follow_ups.join("\n"),
                    if e.enabled { "1" } else { "0" },
                    if e.notify_human { "1" } else { "0" },
                    &time(e.valid_from),
                    &time(e.valid_until),
                    e.match_mode.as_str(),
                    &e.keywords.join("\n"),
                    e.pattern.as_deref().unwrap_or(""),
                    &products.join("\n"),
                    if e.industry { "1" } else { "0" },
                ])?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

/// Reads a synonym list: one group per line, comma-separated (ASCII or Chinese comma),
/// canonical word first; `#` starts a comment.
pub fn read_synonyms(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split([',', '，'])
                .map(|w| w.trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|g| g.len() >= 2)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn the_shared_data_shape_reads_as_is() {
        let jsonl = r#"{"id": 1, "question": "昨天没有钱，今天还上行吗", "answer": "A1", "similar": [], "source": "bq"}
{"id": 9, "question": "如何领优惠券", "answer": "A9", "similar": ["如何获取优惠倦"], "source": "bq"}
"#;
        let entries = read(jsonl.as_bytes(), Format::JsonLines, TZ).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].id, "9");
        assert_eq!(entries[1].similar, ["如何获取优惠倦"]);
    }

    #[test]
    fn bad_lines_are_all_reported_with_numbers() {
        let jsonl = "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"x\"}\n{oops\n\n{\"id\":\"a\",\"question\":\"q2\",\"answer\":\"y\"}\n{\"id\":\"b\",\"question\":\"\",\"answer\":\"y\"}\n";
        let bad = read(jsonl.as_bytes(), Format::JsonLines, TZ).unwrap_err();
        let lines: Vec<usize> = bad.iter().map(|b| b.0).collect();
        assert_eq!(
            lines,
            [2, 4, 5],
            "a line that is not JSON hides no other: {bad:?}"
        );
        assert!(
            bad[0].1 == "JSON 有误：不是合法的 JSON（第 2 列）"
                && bad[1].1.contains("重复")
                && bad[2].1.contains("标准问题"),
            "{bad:?}"
        );
        // Line numbers count blank lines too.
        let jsonl = jsonl.replace("{oops\n", "");
        let bad = read(jsonl.as_bytes(), Format::JsonLines, TZ).unwrap_err();
        let lines: Vec<usize> = bad.iter().map(|b| b.0).collect();
        assert_eq!(lines, [3, 4]);
    }

    #[test]
    fn csv_round_trip_with_bom_and_multiline_cells() {
        let mut e = KbEntry::new("ret", "怎么退货", "在订单里申请");
        e.similar = vec!["退货流程".into(), "咋退, 急".into()];
        e.after_sale_answer = Some("售后答案，带\"引号\"".into());
        e.product_answers.insert("A1".into(), "这款不支持".into());
        e.valid_until = parse_time("2026-11-12 00:00", TZ).unwrap();
        e.follow_ups = vec!["ship".into()];
        let mut other = KbEntry::new("ship", "发货", "48小时");
        other.enabled = false;
        other.industry = false;
        let entries = vec![e, other];
        let mut out = Vec::new();
        write(&mut out, &entries, Format::Csv, TZ).unwrap();
        assert!(out.starts_with(b"\xEF\xBB\xBF"));
        let back = read(out.as_slice(), Format::Csv, TZ).unwrap();
        assert_eq!(back, entries);

        let mut out = Vec::new();
        write(&mut out, &entries, Format::JsonLines, TZ).unwrap();
        assert_eq!(
            read(out.as_slice(), Format::JsonLines, TZ).unwrap(),
            entries
        );
        // Borrowing industry phrasings is the default: only switching it off is written.
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("\"industry\":false").count(), 1, "{text}");
        assert!(!text.contains("\"industry\":true"), "{text}");
    }

    #[test]
    fn csv_problems_name_the_line() {
        let csv = "id,question,answer,enabled\na,问,答,也许\nb,问2,答2,1\n";
        let bad = read(csv.as_bytes(), Format::Csv, TZ).unwrap_err();
        assert_eq!(bad, vec![(2, "“也许”不是是/否".to_string())]);
        // Excel's line ends (CRLF), after a BOM and a cell over two lines: still the
        // file's own line numbers.
        let crlf = "\u{feff}id,question,answer\r\na1,\"问题\r\n一\",答案一\r\na2,问题二,\r\n";
        let bad = read(crlf.as_bytes(), Format::Csv, TZ).unwrap_err();
        assert_eq!(bad, vec![(4, "请填写答案".to_string())]);
        let bad = read("question,answer\nq,a\n".as_bytes(), Format::Csv, TZ).unwrap_err();
        assert!(bad[0].1.contains("缺少列 id"));
        // Saved by Excel on Chinese Windows: GBK ("问", "答") reads as it was meant.
        let gbk: &[u8] = b"id,question,answer\na,\xce\xca,\xb4\xf0\nb,\xce\xca2,\xb4\xf02\n";
        let entries = read(gbk, Format::Csv, TZ).unwrap();
        assert_eq!(entries[0].question, "问");
        assert_eq!(entries[1].answer, "答2");
        let products = read_products(&b"sku,name\nT1,\xce\xca\n"[..]).unwrap();
        assert_eq!(products[0].name, "问");
        // Neither UTF-8 nor GBK: said once, with the way out.
        let junk: &[u8] = b"id,question,answer\na,\xff\xff,x\nb,\xff,y\n";
        let bad = read(junk, Format::Csv, TZ).unwrap_err();
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(bad[0].0, 2);
        assert!(bad[0].1.contains("编码无法识别") && bad[0].1.contains("CSV UTF-8"));
    }

    #[test]
    fn times_in_the_shops_zone_also_as_excel_rewrites_them() {
        let at = |s: &str| parse_time(s, TZ).unwrap().unwrap().to_rfc3339();
        let nov24 = "2026-11-24T02:37:00+00:00";
        assert_eq!(at("2026-11-24 10:37"), nov24);
        assert_eq!(at("2026/11/24 10:37"), nov24);
        assert_eq!(at("2026/11/24 10:37:00"), nov24);
        assert_eq!(at("2026/1/5"), "2026-01-04T16:00:00+00:00");
        assert_eq!(parse_time("", TZ), Ok(None));
        assert!(
            parse_time("明天", TZ)
                .unwrap_err()
                .contains("2026-11-11 00:00")
        );
    }

    #[test]
    fn synonym_lists() {
        let groups = read_synonyms("# 注释\n快递,物流，快件\n单独\n\nSF, 顺丰 # 行尾注释\n");
        assert_eq!(
            groups,
            vec![vec!["快递", "物流", "快件"], vec!["sf", "顺丰"]]
        );
    }

    #[test]
    fn products_round_trip_through_csv_and_bad_rows_are_reported_by_line() {
        let mut p = Product::new("T1", "云朵拖鞋");
        p.aliases = vec!["拖鞋".into(), "云朵".into()];
        p.price = Some(Price(5990));
        p.stock = Some(3);
        p.related = vec!["T2".into()];
        p.link = Some("https://shop.example/t1".into());
        p.image = Some("https://img.example/t1.jpg".into());
        p.attributes.insert("材质".into(), "EVA".into());
        p.attributes.insert("尺码".into(), "36-45".into());
        let mut out = Vec::new();
        write_products(&mut out, std::slice::from_ref(&p)).unwrap();
        assert!(out.starts_with(b"\xEF\xBB\xBF"), "Excel needs the BOM");
        assert_eq!(read_products(out.as_slice()).unwrap(), vec![p]);

        let bad = "sku,name,price,stock,image\nA,好的,9.9,1,\nB,,1,1,\nC,袜子,abc,1,\nA,重复,1,1,\nD,帽子,1,1,javascript:alert(1)\n";
        let lines = read_products(bad.as_bytes()).unwrap_err();
        let at: Vec<usize> = lines.iter().map(|(l, _)| *l).collect();
        assert_eq!(at, vec![3, 4, 5, 6], "every bad row at once: {lines:?}");
        assert!(lines[3].1.contains("图片链接"), "{lines:?}");
        // Every problem of a row at once, not the first only.
        let many = "sku,name,price,stock,attributes\nE,围巾,abc,x,颜色\n";
        let why = &read_products(many.as_bytes()).unwrap_err()[0].1;
        for part in ["price“abc”不是价格", "库存“x”不是整数", "属性“颜色”应写成"]
        {
            assert!(why.contains(part), "{part}: {why}");
        }
        // Related SKUs side by side or one per line.
        let related = "sku,name,related\nA,一,\"B C、D\nE\"\n";
        assert_eq!(
            read_products(related.as_bytes()).unwrap()[0].related,
            ["B", "C", "D", "E"]
        );
        let dup = "sku,name\nA,一\nA,二\n";
        assert_eq!(read_products(dup.as_bytes()).unwrap_err()[0].0, 3);
        assert!(
            read_products("name\n袜子\n".as_bytes()).unwrap_err()[0]
                .1
                .contains("sku")
        );
    }
}
