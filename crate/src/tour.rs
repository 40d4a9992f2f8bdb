//! The guided tour as data: `tour.json` (beside `presets.json`) is the built-in tour, and a
//! teacher's file of the same shape opens by link (the page fetches its bytes, and the wasm
//! export `tour` brings them here; the CLI's `tour` reads a file). Each stop says what link sets up its experiment, which panel shows its
//! point, its words, one thing to try, its sources, and (optionally) the moment of the run it
//! waits for (`session::moments`). This module reads and checks tours, and every mistake in a
//! file is a sentence that names the stop and the field; it runs nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::presets;
use crate::session::link;
use crate::session::moments::{When, Watching};
use crate::session::panels::{Panel, PANELS};

pub const TOUR_JSON: &str = include_str!("tour.json");

/// A tour file is at most this long (bytes), judged before it is read.
pub const MAX_BYTES: u64 = 256 * 1024;
/// At most this many stops, of at most this many words (the text and the thing to try), so
/// that a stop's card leaves room for its panel on a phone.
pub const MAX_STOPS: usize = 40;
pub const MAX_WORDS: usize = 160;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tour {
    pub title: String,
    pub stops: Vec<Stop>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    pub title: String,
    /// The link's pairs that set up the stop's experiment (`preset`, settings, `stop`, view).
    pub link: Vec<(String, String)>,
    /// The panel that shows the stop's point (a name of `panels::PANELS`).
    pub panel: String,
    pub text: String,
    /// One thing to try.
    #[serde(rename = "try")]
    pub try_this: String,
    pub sources: Vec<Source>,
    /// The moment of the run the stop waits for and says when it comes.
    pub moment: Option<Watching>,
    /// Train the preset's comparison beside it from the start (its first, `Command::Compare`).
    pub compare: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub title: String,
    pub url: String,
}

/// The built-in tour.
pub fn builtin() -> Tour {
    parse(TOUR_JSON.as_bytes()).expect("the built-in tour.json is checked by its tests")
}

/// Read and check a tour file; every mistake is a sentence naming where it is.
pub fn parse(bytes: &[u8]) -> Result<Tour, String> {
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!("The tour file is {} bytes; a tour may be at most {MAX_BYTES}.", bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "The tour file is not text (UTF-8).".to_string())?;
    let value = crate::json::parse(text, "the tour file")?;
    let Value::Object(top) = value else { return Err("The tour file holds no object: it should be {\"title\": …, \"stops\": […]}.".into()) };
    only(&top, &["title", "stops"], "The tour file")?;
    let title = string(&top, "title", "The tour file")?;
    let Some(Value::Array(stops)) = top.get("stops") else { return Err("The tour file has no list of \"stops\".".into()) };
    if stops.is_empty() || stops.len() > MAX_STOPS {
        return Err(format!("The tour file has {} stops; a tour has 1 to {MAX_STOPS}.", stops.len()));
    }
    let stops = stops.iter().enumerate().map(|(i, stop)| read_stop(stop, &format!("Stop {}", i + 1))).collect::<Result<_, _>>()?;
    Ok(Tour { title, stops })
}

fn read_stop(value: &Value, at: &str) -> Result<Stop, String> {
    let Value::Object(stop) = value else { return Err(format!("{at} is not an object with a title, a link, a panel and a text.")) };
    only(stop, &["title", "link", "panel", "text", "try", "sources", "moment", "compare"], at)?;
    let panel = string(stop, "panel", at)?;
    if Panel::named(&panel).is_err() {
        let names: Vec<&str> = PANELS.iter().map(|p| p.name).collect();
        return Err(format!("{at}'s panel \"{panel}\" is not one of the page's panels ({}).", names.join(", ")));
    }
    let (text, try_this) = (string(stop, "text", at)?, string(stop, "try", at)?);
    let words = text.split_whitespace().count() + try_this.split_whitespace().count();
    if words > MAX_WORDS {
        return Err(format!("{at} has {words} words in its text and its thing to try; a stop has at most {MAX_WORDS}, so that its panel stays in sight on a phone."));
    }
    let moment = match stop.get("moment") {
        None | Some(Value::Null) => None,
        Some(value) => Some(read_moment(value, at)?),
    };
    let compare = match stop.get("compare") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(format!("{at}'s \"compare\" is not true or false.")),
    };
    let (title, link, sources) = (string(stop, "title", at)?, read_link(stop.get("link"), at)?, read_sources(stop.get("sources"), at)?);
    Ok(Stop { title, link, panel, text, try_this, sources, moment, compare })
}

/// The stop's link: an object of link keys and their values (text, numbers or true/false).
fn read_link(value: Option<&Value>, at: &str) -> Result<Vec<(String, String)>, String> {
    let Some(Value::Object(pairs)) = value else { return Err(format!("{at} has no \"link\": an object such as {{\"preset\": \"turnoff\"}}.")) };
    let mut link = Vec::new();
    for (key, value) in pairs {
        if !link::is_key(key) {
            return Err(format!("{at}'s link has \"{key}\", which is not a setting a link can give."));
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(format!("{at}'s link gives \"{key}\" something that is not text, a number or true/false.")),
        };
        if key == "preset" && presets::find(&text).is_err() {
            return Err(format!("{at}'s link names the preset \"{text}\", which this page does not have."));
        }
        link.push((key.clone(), text));
    }
    Ok(link)
}

fn read_sources(value: Option<&Value>, at: &str) -> Result<Vec<Source>, String> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("{at}'s \"sources\" is not a list.")),
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(source) = item else { return Err(format!("{at} has a source that is not {{\"title\": …, \"url\": …}}.")) };
            only(source, &["title", "url"], &format!("{at}'s source"))?;
            let url = string(source, "url", &format!("{at}'s source"))?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("{at}'s source address \"{url}\" is not a web address (https://…)."));
            }
            Ok(Source { title: string(source, "title", &format!("{at}'s source"))?, url })
        })
        .collect()
}

fn read_moment(value: &Value, at: &str) -> Result<Watching, String> {
    let Value::Object(moment) = value else { return Err(format!("{at}'s moment is not {{\"when\": …, \"says\": …, \"mark\": …}}.")) };
    only(moment, &["when", "says", "mark"], &format!("{at}'s moment"))?;
    let (says, mark) = (string(moment, "says", &format!("{at}'s moment"))?, string(moment, "mark", &format!("{at}'s moment"))?);
    let kinds = "beats-pca, {\"separates\": {\"accuracy\": 0.7}}, units-die, {\"filters-smooth\": {\"roughness\": 0.5}}, {\"comparison-stalls\": {\"ratio\": 10}} or {\"pretraining-wins\": {\"points\": 3}}";
    let when: When = moment
        .get("when")
        .and_then(|w| serde_json::from_value(w.clone()).ok())
        .ok_or_else(|| format!("{at}'s moment has no \"when\" this page can watch for; it can watch for {kinds}."))?;
    use When::*;
    let fits = match when {
        BeatsPca | UnitsDie => true,
        Separates { accuracy } => (0.0..=1.0).contains(&accuracy),
        FiltersSmooth { roughness } => roughness > 0.0 && roughness <= 2.0,
        ComparisonStalls { ratio } => (1.0..=1e9).contains(&ratio),
        PretrainingWins { points } => (0.0..=100.0).contains(&points),
    };
    if !fits {
        return Err(format!("{at}'s moment asks for a number out of its range (an accuracy from 0 to 1, a roughness from 0 to 2, a ratio of at least 1, points from 0 to 100)."));
    }
    if mark.chars().count() > 24 {
        return Err(format!("{at}'s moment's mark \"{mark}\" is longer than the loss graph's 24 characters."));
    }
    Ok(Watching { when, says, mark })
}

/// The object's keys are all among `known`.
fn only(object: &Map<String, Value>, known: &[&str], at: &str) -> Result<(), String> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!("{at} has \"{key}\", which a tour does not have (it has {}).", known.join(", "))),
        None => Ok(()),
    }
}

fn string(object: &Map<String, Value>, key: &str, at: &str) -> Result<String, String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(format!("{at} has no \"{key}\" text.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_tour_reads_and_each_stop_is_short_and_sourced() {
        let tour = builtin();
        assert!(tour.stops.len() >= 8, "{} stops", tour.stops.len());
        for (i, stop) in tour.stops.iter().enumerate() {
            let words = stop.text.split_whitespace().count() + stop.try_this.split_whitespace().count();
            assert!(words <= 110, "stop {}: {words} words", i + 1);
            assert!(!stop.sources.is_empty(), "stop {} links a source", i + 1);
            assert!(stop.link.iter().any(|(k, _)| k == "preset"), "stop {} sets up a preset", i + 1);
        }
    }

    #[test]
    fn a_malformed_tour_is_a_sentence_naming_the_stop_and_field() {
        let cases: [(&str, &str); 10] = [
            ("", "the tour file"),
            ("[1]", "holds no object"),
            (r#"{"title":"t"}"#, "no list of \"stops\""),
            (r#"{"title":"t","stops":[]}"#, "0 stops"),
            (r#"{"title":"t","stops":[3]}"#, "Stop 1 is not an object"),
            (r#"{"title":"t","stops":[{"title":"a","link":{"preset":"convnetjs"},"panel":"los","text":"x","try":"y"}]}"#, "panel \"los\""),
            (r#"{"title":"t","stops":[{"title":"a","link":{"preset":"nope"},"panel":"loss","text":"x","try":"y"}]}"#, "preset \"nope\""),
            (r#"{"title":"t","stops":[{"title":"a","link":{"colour":"red"},"panel":"loss","text":"x","try":"y"}]}"#, "\"colour\""),
            (r#"{"title":"t","stops":[{"title":"a","link":{},"panel":"loss","text":"x","try":"y","moment":{"when":"soon","says":"s","mark":"m"}}]}"#, "no \"when\""),
            (r#"{"title":"t","stops":[{"title":"a","link":{},"panel":"loss","text":"x","try":"y","sources":[{"title":"s","url":"javascript:alert(1)"}]}]}"#, "not a web address"),
        ];
        for (text, fragment) in cases {
            let err = parse(text.as_bytes()).unwrap_err();
            assert!(err.contains(fragment), "{text}: {err}");
            assert!(!err.contains("serde") && !err.contains("invalid type"), "{err}");
        }
        let long = format!(r#"{{"title":"t","stops":[{{"title":"a","link":{{}},"panel":"loss","text":"{}","try":"y"}}]}}"#, "word ".repeat(200));
        assert!(parse(long.as_bytes()).unwrap_err().contains("201 words"));
        assert!(parse(&vec![b' '; MAX_BYTES as usize + 1]).unwrap_err().contains("at most"));
        assert!(parse(&[0xff, 0xfe]).unwrap_err().contains("not text"));
    }
}
