//! A full name split into family and given name the way Chinese CRMs hold
//! them: Han names family-first with compound surnames (欧阳娜娜 → 欧阳 +
//! 娜娜), `ZHANG, Wei` and `ZHANG Wei` family-first, pinyin names by which
//! word is the likelier surname, other names given-first.

use kehu_model::NameSplit;

/// Compound (two-character) Chinese surnames.
const COMPOUND: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "长孙", "宇文", "司徒",
    "夏侯", "公孙", "轩辕", "端木", "西门", "南宫", "独孤", "百里", "呼延", "东郭", "闻人", "万俟",
    "澹台", "申屠", "太叔", "公羊", "赫连", "钟离", "宗政", "濮阳", "淳于", "单于", "拓跋", "司空",
    "司寇", "第五", "乐正", "公冶", "仲孙", "左丘", "梁丘", "鲜于", "闾丘", "亓官", "谷梁", "段干",
];

/// The most common pinyin surnames, most common first (their rank tells
/// `Zhang Wei` from `Wei Zhang`); compound ones as one word.
const PINYIN: &[&str] = &[
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "he",
    "gao",
    "lin",
    "luo",
    "zheng",
    "liang",
    "xie",
    "song",
    "tang",
    "han",
    "feng",
    "deng",
    "cao",
    "peng",
    "zeng",
    "xiao",
    "tian",
    "dong",
    "yuan",
    "pan",
    "yu",
    "jiang",
    "cai",
    "du",
    "ye",
    "cheng",
    "wei",
    "su",
    "lv",
    "lyu",
    "ding",
    "ren",
    "shen",
    "yao",
    "lu",
    "cui",
    "zhong",
    "tan",
    "fan",
    "jin",
    "shi",
    "liao",
    "jia",
    "xia",
    "fu",
    "fang",
    "bai",
    "zou",
    "meng",
    "xiong",
    "qin",
    "qiu",
    "yin",
    "xue",
    "yan",
    "duan",
    "lei",
    "hou",
    "long",
    "tao",
    "gu",
    "mao",
    "hao",
    "gong",
    "shao",
    "wan",
    "qian",
    "dai",
    "mo",
    "kong",
    "xiang",
    "chang",
    "kang",
    "wen",
    "ouyang",
    "sima",
    "zhuge",
    "shangguan",
    "dongfang",
    "huangfu",
    "murong",
    "situ",
    "xiahou",
];

fn is_han(c: char) -> bool {
    ('\u{3400}'..='\u{9fff}').contains(&c) || ('\u{f900}'..='\u{faff}').contains(&c)
}

/// The family and given name in `full`, and how sure the split is; none
/// for a single word or a name with digits.
pub fn split_name(full: &str) -> Option<(String, String, NameSplit)> {
    let full = full.trim();
    let chars: Vec<char> = full.chars().collect();
    if chars.len() >= 2 && chars.iter().all(|&c| is_han(c)) {
        return Some(split_han(&chars));
    }
    if let Some((family, given)) = full.split_once([',', '，']) {
        let (family, given) = (family.trim(), given.trim());
        return (!family.is_empty() && !given.is_empty())
            .then(|| (family.to_string(), given.to_string(), NameSplit::Certain));
    }
    let words: Vec<&str> = full.split_whitespace().collect();
    if words.len() < 2 || words.iter().any(|w| w.chars().any(|c| c.is_ascii_digit())) {
        return None;
    }
    let capitals = |w: &str| w.chars().count() > 1 && w.chars().all(|c| c.is_uppercase());
    let join = |ws: &[&str]| ws.join(" ");
    let (first, last) = (words[0], words[words.len() - 1]);
    // A family name in capitals, first or last: `ZHANG Wei`, `Wei ZHANG`.
    if capitals(first) && !words[1..].iter().any(|w| capitals(w)) {
        return Some((first.to_string(), join(&words[1..]), NameSplit::Certain));
    }
    if capitals(last) && !words[..words.len() - 1].iter().any(|w| capitals(w)) {
        let given = join(&words[..words.len() - 1]);
        return Some((last.to_string(), given, NameSplit::Certain));
    }
    let family_first = (first.to_string(), join(&words[1..]));
    let family_last = (last.to_string(), join(&words[..words.len() - 1]));
    let ((family, given), how) = if words.len() == 2 {
        let rank = |w: &str| PINYIN.iter().position(|p| p.eq_ignore_ascii_case(w));
        match (rank(first), rank(last)) {
            (Some(_), None) => (family_first, NameSplit::Likely),
            (None, Some(_)) => (family_last, NameSplit::Likely),
            // Both are surnames: the much likelier one is (`Zhang Wei`).
            (Some(a), Some(b)) if a + 10 < b => (family_first, NameSplit::Likely),
            (Some(a), Some(b)) if b + 10 < a => (family_last, NameSplit::Likely),
            (Some(_), Some(_)) => (family_last, NameSplit::Guess),
            (None, None) => (family_last, NameSplit::Likely),
        }
    } else {
        (family_last, NameSplit::Likely)
    };
    Some((family, given, how))
}

/// A Han name: a compound surname and the rest; else the first character
/// and the rest (certain for two or three characters, likely for more).
fn split_han(chars: &[char]) -> (String, String, NameSplit) {
    let text: String = chars.iter().collect();
    if chars.len() >= 3 {
        if let Some(c) = COMPOUND.iter().find(|c| text.starts_with(*c)) {
            let given = text[c.len()..].to_string();
            return (c.to_string(), given, NameSplit::Certain);
        }
    }
    let split = chars[0].len_utf8();
    let how = if chars.len() <= 3 {
        NameSplit::Certain
    } else {
        NameSplit::Likely
    };
    (text[..split].to_string(), text[split..].to_string(), how)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(full: &str) -> Option<(String, String, NameSplit)> {
        split_name(full)
    }

    fn parts(full: &str) -> (String, String) {
        let (f, g, _) = split(full).unwrap_or_else(|| panic!("{full}"));
        (f, g)
    }

    #[test]
    fn han_names_split_family_first_with_compound_surnames() {
        let s = |f: &str, g: &str| (f.to_string(), g.to_string());
        assert_eq!(parts("张伟"), s("张", "伟"));
        assert_eq!(parts("李小龙"), s("李", "小龙"));
        assert_eq!(parts("欧阳娜娜"), s("欧阳", "娜娜"));
        assert_eq!(parts("司马相如"), s("司马", "相如"));
        assert_eq!(parts("诸葛亮"), s("诸葛", "亮"));
        assert_eq!(split("欧阳娜娜").unwrap().2, NameSplit::Certain);
        assert_eq!(split("张伟").unwrap().2, NameSplit::Certain);
        // Two characters are always one of each, compound-looking or not.
        assert_eq!(parts("欧阳"), s("欧", "阳"));
        assert_eq!(split("王李小红").unwrap().2, NameSplit::Likely);
        assert_eq!(split("伟"), None);
    }

    #[test]
    fn romanised_names_by_their_usual_patterns() {
        let s = |f: &str, g: &str| (f.to_string(), g.to_string());
        assert_eq!(parts("ZHANG, Wei"), s("ZHANG", "Wei"));
        assert_eq!(parts("Zhang, Wei"), s("Zhang", "Wei"));
        assert_eq!(split("ZHANG, Wei").unwrap().2, NameSplit::Certain);
        assert_eq!(parts("ZHANG Wei"), s("ZHANG", "Wei"));
        assert_eq!(parts("Wei ZHANG"), s("ZHANG", "Wei"));
        assert_eq!(parts("Zhang Wei"), s("Zhang", "Wei"));
        assert_eq!(parts("Wei Zhang"), s("Zhang", "Wei"));
        assert_eq!(parts("Li Na"), s("Li", "Na"));
        assert_eq!(parts("Zhang Xiaoming"), s("Zhang", "Xiaoming"));
        assert_eq!(parts("Ouyang Nana"), s("Ouyang", "Nana"));
        assert_eq!(split("Zhang Wei").unwrap().2, NameSplit::Likely);
        // Two surnames of like rank: a guess, given-first.
        assert_eq!(split("Wang Li").unwrap().2, NameSplit::Guess);
        assert_eq!(parts("John Smith"), s("Smith", "John"));
        assert_eq!(parts("Mary Ann Smith"), s("Smith", "Mary Ann"));
        assert_eq!(parts("Hans Müller"), s("Müller", "Hans"));
        assert_eq!(split("Madonna"), None);
        assert_eq!(split("Agent 007"), None);
    }
}
