//! Cell text to typed values and back: dates, instants, lists, enums, custom values.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use kehu_model::{
    CustomType, CustomValue, Decimal, FeedbackStatus, InteractionChannel, Kind, LifecycleStage,
    Timestamp,
};

/// Person or organisation, in English or Chinese (`个人`, `企业`).
pub fn parse_kind(text: &str) -> Option<Kind> {
    match text.trim().to_lowercase().as_str() {
        "person" | "individual" | "people" | "p" | "b2c" | "个人" | "自然人" => {
            Some(Kind::Person)
        }
        "organization" | "organisation" | "org" | "company" | "business" | "b2b" | "o" | "企业"
        | "公司" | "机构" | "单位" => Some(Kind::Organization),
        _ => None,
    }
}

/// A lifecycle stage by its name, or a Chinese CRM's word for it (`潜在客户`, `活跃`).
pub fn parse_stage(text: &str) -> Option<LifecycleStage> {
    if let Ok(s) = text.parse() {
        return Some(s);
    }
    match text.trim() {
        "潜在" | "潜在客户" | "lead" | "prospect" => Some(LifecycleStage::Potential),
        "新客户" | "新" => Some(LifecycleStage::New),
        "活跃" | "活跃客户" => Some(LifecycleStage::Active),
        "风险" | "流失风险" | "有流失风险" => Some(LifecycleStage::AtRisk),
        "流失" | "已流失" => Some(LifecycleStage::Churned),
        _ => None,
    }
}

/// An interaction channel (`call`, `wechat`, `拜访`).
pub fn parse_channel(text: &str) -> Option<InteractionChannel> {
    Some(match text.trim().to_lowercase().as_str() {
        "phone" | "call" | "电话" => InteractionChannel::Phone,
        "email" | "e-mail" | "mail" | "邮件" => InteractionChannel::Email,
        "chat" | "wechat" | "whatsapp" | "im" | "微信" | "聊天" => InteractionChannel::Chat,
        "visit" | "meeting" | "store" | "拜访" | "到店" => InteractionChannel::Visit,
        "social" | "weibo" | "社交" => InteractionChannel::Social,
        "other" | "其他" => InteractionChannel::Other,
        _ => return None,
    })
}

/// A feedback status (`open`, `in progress`, `resolved`).
pub fn parse_feedback_status(text: &str) -> Option<FeedbackStatus> {
    let key = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    serde_json::from_value(serde_json::Value::String(key)).ok()
}

/// A calendar date: `2024-03-05`, `2024/3/5`, `2024.03.05`, `20240305`,
/// `2024年3月5日`, or day and month around a year when only one reading is possible.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    let t = t.split(['T', ' ']).next().unwrap_or(t);
    let bad = || format!("not a date (write it as YYYY-MM-DD): {:?}", short(text));
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(t, "%Y%m%d").map_err(|_| bad());
    }
    let parts: Vec<&str> = t
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    let nums: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
    let Some(nums) = nums.filter(|n| n.len() == 3) else {
        return Err(bad());
    };
    let (y, m, d) = if parts[0].len() == 4 {
        (nums[0], nums[1], nums[2])
    } else if parts[2].len() == 4 {
        match (nums[0] > 12, nums[1] > 12) {
            (true, false) => (nums[2], nums[1], nums[0]),
            (false, true) => (nums[2], nums[0], nums[1]),
            _ if nums[0] == nums[1] => (nums[2], nums[0], nums[1]),
            _ => {
                return Err(format!(
                    "ambiguous date {:?}: day and month could be either way round; write it as YYYY-MM-DD",
                    short(text)
                ))
            }
        }
    } else {
        return Err(bad());
    };
    NaiveDate::from_ymd_opt(y as i32, m, d)
        .ok_or_else(|| format!("no such date: {:?}", short(text)))
}

/// An instant: RFC 3339, or a date and time without a zone (taken as UTC), or a date (midnight UTC).
pub fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(naive.and_utc());
        }
    }
    parse_date(t)
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .map_err(|_| {
            format!(
                "not a date and time (write it as 2024-03-05T14:30:00Z): {:?}",
                short(text)
            )
        })
}

/// A custom field's value from its cell, by the type the rule set declares.
pub fn parse_custom(text: &str, kind: CustomType) -> Result<CustomValue, String> {
    let t = text.trim();
    Ok(match kind {
        CustomType::Text => CustomValue::Text(t.to_string()),
        CustomType::Enum => CustomValue::Enum(t.to_string()),
        CustomType::Integer => CustomValue::Integer(
            t.replace([',', '_'], "")
                .parse()
                .map_err(|_| "not a whole number".to_string())?,
        ),
        CustomType::Decimal => CustomValue::Decimal(
            t.replace(',', "")
                .parse::<Decimal>()
                .map_err(|_| "not a decimal number".to_string())?,
        ),
        CustomType::Bool => CustomValue::Bool(match t.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "是" | "对" => true,
            "false" | "no" | "n" | "0" | "否" | "不" => false,
            _ => return Err("not yes or no".into()),
        }),
        CustomType::Date => CustomValue::Date(parse_date(t)?),
        CustomType::Datetime => CustomValue::DateTime(parse_timestamp(t)?),
        CustomType::TextList => CustomValue::TextList(split_list(t)),
    })
}

/// The text of a custom value, as [`parse_custom`] reads it back.
pub fn custom_text(value: &CustomValue) -> String {
    match value {
        CustomValue::Text(s) | CustomValue::Enum(s) => s.clone(),
        CustomValue::Integer(i) => i.to_string(),
        CustomValue::Decimal(d) => d.to_string(),
        CustomValue::Bool(b) => b.to_string(),
        CustomValue::Date(d) => d.format("%Y-%m-%d").to_string(),
        CustomValue::DateTime(t) => timestamp_text(*t),
        CustomValue::TextList(items) => list_text(items),
    }
}

/// An instant as exported: RFC 3339 in UTC with as many fractional digits as it has.
pub fn timestamp_text(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

const SEPARATORS: &[char] = &[';', '；', ',', '，', '、', '|'];

/// Splits a list cell: a JSON array of strings, else on `;` when it has one,
/// else on `,` `，` `、` `|`. Items are trimmed; empty ones dropped.
pub fn split_list(text: &str) -> Vec<String> {
    let t = text.trim();
    if t.starts_with('[') {
        if let Ok(items) = serde_json::from_str::<Vec<String>>(t) {
            return items;
        }
    }
    let parts: Vec<&str> = if t.contains([';', '；']) {
        t.split([';', '；']).collect()
    } else {
        t.split(&[',', '，', '、', '|'][..]).collect()
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// A list as a cell that [`split_list`] reads back: `a;b`, or a JSON array
/// when an item holds a separator or would not survive trimming.
pub fn list_text(items: &[String]) -> String {
    let plain = items
        .iter()
        .all(|i| !i.is_empty() && !i.contains(SEPARATORS) && i.trim() == i && !i.starts_with('['));
    if plain {
        items.join(";")
    } else {
        serde_json::to_string(items).unwrap_or_default()
    }
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_many_writings() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        for t in [
            "2024-03-15",
            "2024/3/15",
            "2024.03.15",
            "20240315",
            "2024年3月15日",
            "15/03/2024",
            "03/15/2024",
            "2024-03-15T00:00:00",
        ] {
            assert_eq!(parse_date(t), Ok(d), "{t}");
        }
        assert!(parse_date("03/04/2024").unwrap_err().contains("ambiguous"));
        assert!(parse_date("2024-02-30")
            .unwrap_err()
            .contains("no such date"));
        assert!(parse_date("soon").is_err());
    }

    #[test]
    fn lists_round_trip_through_cells() {
        for items in [
            vec!["a".to_string(), "b".into()],
            vec!["x, y".into(), "z".into()],
            vec!["[odd".into()],
            vec![" padded ".into()],
        ] {
            assert_eq!(split_list(&list_text(&items)), items, "{items:?}");
        }
        assert_eq!(split_list("VIP、老客户"), vec!["VIP", "老客户"]);
        assert_eq!(split_list("a@x.com; b@y.com"), vec!["a@x.com", "b@y.com"]);
    }

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("2024-03-05T14:30:00.123456789Z").unwrap();
        assert_eq!(parse_timestamp(&timestamp_text(t)), Ok(t));
        assert_eq!(
            parse_timestamp("2024-03-05 14:30:00").unwrap(),
            parse_timestamp("2024-03-05T14:30:00Z").unwrap()
        );
    }
}
