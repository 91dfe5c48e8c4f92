//! Place names as plain data: the provinces of China with their
//! prefecture-level cities (and the districts of the four municipalities),
//! the pinyin of the provinces and larger cities, and the largest cities
//! elsewhere in their own and Chinese scripts. Names are held without their
//! administrative suffix (`省`, `市`, `自治区`, …; see [`strip_suffix`]).

use std::borrow::Cow;

/// A province-level division of China: its name, pinyin and the
/// prefecture-level cities (for a municipality, its districts).
pub(crate) struct Province {
    pub name: &'static str,
    pub pinyin: &'static str,
    pub cities: &'static [&'static str],
}

/// Every province-level division of the mainland.
pub(crate) const PROVINCES: &[Province] = &[
    Province {
        name: "北京",
        pinyin: "beijing",
        cities: &[
            "东城",
            "西城",
            "朝阳",
            "海淀",
            "丰台",
            "石景山",
            "门头沟",
            "房山",
            "通州",
            "顺义",
            "昌平",
            "大兴",
            "怀柔",
            "平谷",
            "密云",
            "延庆",
        ],
    },
    Province {
        name: "上海",
        pinyin: "shanghai",
        cities: &[
            "黄浦",
            "徐汇",
            "长宁",
            "静安",
            "普陀",
            "虹口",
            "杨浦",
            "闵行",
            "宝山",
            "嘉定",
            "浦东",
            "浦东新",
            "金山",
            "松江",
            "青浦",
            "奉贤",
            "崇明",
        ],
    },
    Province {
        name: "天津",
        pinyin: "tianjin",
        cities: &[
            "和平",
            "河东",
            "河西",
            "南开",
            "河北",
            "红桥",
            "东丽",
            "西青",
            "津南",
            "北辰",
            "武清",
            "宝坻",
            "滨海新",
            "宁河",
            "静海",
            "蓟州",
        ],
    },
    Province {
        name: "重庆",
        pinyin: "chongqing",
        cities: &[
            "渝中",
            "江北",
            "南岸",
            "九龙坡",
            "沙坪坝",
            "大渡口",
            "北碚",
            "渝北",
            "巴南",
            "万州",
            "涪陵",
            "黔江",
            "长寿",
            "江津",
            "合川",
            "永川",
            "南川",
            "綦江",
            "大足",
            "璧山",
            "铜梁",
            "潼南",
            "荣昌",
            "开州",
            "梁平",
            "武隆",
        ],
    },
    Province {
        name: "河北",
        pinyin: "hebei",
        cities: &[
            "石家庄",
            "唐山",
            "秦皇岛",
            "邯郸",
            "邢台",
            "保定",
            "张家口",
            "承德",
            "沧州",
            "廊坊",
            "衡水",
        ],
    },
    Province {
        name: "山西",
        pinyin: "shanxi",
        cities: &[
            "太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州", "临汾", "吕梁",
        ],
    },
    Province {
        name: "内蒙古",
        pinyin: "neimenggu",
        cities: &[
            "呼和浩特",
            "包头",
            "乌海",
            "赤峰",
            "通辽",
            "鄂尔多斯",
            "呼伦贝尔",
            "巴彦淖尔",
            "乌兰察布",
            "兴安",
            "锡林郭勒",
            "阿拉善",
        ],
    },
    Province {
        name: "辽宁",
        pinyin: "liaoning",
        cities: &[
            "沈阳",
            "大连",
            "鞍山",
            "抚顺",
            "本溪",
            "丹东",
            "锦州",
            "营口",
            "阜新",
            "辽阳",
            "盘锦",
            "铁岭",
            "朝阳",
            "葫芦岛",
        ],
    },
    Province {
        name: "吉林",
        pinyin: "jilin",
        cities: &[
            "长春", "吉林", "四平", "辽源", "通化", "白山", "松原", "白城", "延边",
        ],
    },
    Province {
        name: "黑龙江",
        pinyin: "heilongjiang",
        cities: &[
            "哈尔滨",
            "齐齐哈尔",
            "鸡西",
            "鹤岗",
            "双鸭山",
            "大庆",
            "伊春",
            "佳木斯",
            "七台河",
            "牡丹江",
            "黑河",
            "绥化",
            "大兴安岭",
        ],
    },
    Province {
        name: "江苏",
        pinyin: "jiangsu",
        cities: &[
            "南京",
            "无锡",
            "徐州",
            "常州",
            "苏州",
            "南通",
            "连云港",
            "淮安",
            "盐城",
            "扬州",
            "镇江",
            "泰州",
            "宿迁",
        ],
    },
    Province {
        name: "浙江",
        pinyin: "zhejiang",
        cities: &[
            "杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水",
        ],
    },
    Province {
        name: "安徽",
        pinyin: "anhui",
        cities: &[
            "合肥",
            "芜湖",
            "蚌埠",
            "淮南",
            "马鞍山",
            "淮北",
            "铜陵",
            "安庆",
            "黄山",
            "滁州",
            "阜阳",
            "宿州",
            "六安",
            "亳州",
            "池州",
            "宣城",
        ],
    },
    Province {
        name: "福建",
        pinyin: "fujian",
        cities: &[
            "福州", "厦门", "莆田", "三明", "泉州", "漳州", "南平", "龙岩", "宁德",
        ],
    },
    Province {
        name: "江西",
        pinyin: "jiangxi",
        cities: &[
            "南昌",
            "景德镇",
            "萍乡",
            "九江",
            "新余",
            "鹰潭",
            "赣州",
            "吉安",
            "宜春",
            "抚州",
            "上饶",
        ],
    },
    Province {
        name: "山东",
        pinyin: "shandong",
        cities: &[
            "济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海", "日照",
            "临沂", "德州", "聊城", "滨州", "菏泽",
        ],
    },
    Province {
        name: "河南",
        pinyin: "henan",
        cities: &[
            "郑州",
            "开封",
            "洛阳",
            "平顶山",
            "安阳",
            "鹤壁",
            "新乡",
            "焦作",
            "濮阳",
            "许昌",
            "漯河",
            "三门峡",
            "南阳",
            "商丘",
            "信阳",
            "周口",
            "驻马店",
            "济源",
        ],
    },
    Province {
        name: "湖北",
        pinyin: "hubei",
        cities: &[
            "武汉",
            "黄石",
            "十堰",
            "宜昌",
            "襄阳",
            "鄂州",
            "荆门",
            "孝感",
            "荆州",
            "黄冈",
            "咸宁",
            "随州",
            "恩施",
            "仙桃",
            "潜江",
            "天门",
            "神农架",
        ],
    },
    Province {
        name: "湖南",
        pinyin: "hunan",
        cities: &[
            "长沙",
            "株洲",
            "湘潭",
            "衡阳",
            "邵阳",
            "岳阳",
            "常德",
            "张家界",
            "益阳",
            "郴州",
            "永州",
            "怀化",
            "娄底",
            "湘西",
        ],
    },
    Province {
        name: "广东",
        pinyin: "guangdong",
        cities: &[
            "广州", "韶关", "深圳", "珠海", "汕头", "佛山", "江门", "湛江", "茂名", "肇庆", "惠州",
            "梅州", "汕尾", "河源", "阳江", "清远", "东莞", "中山", "潮州", "揭阳", "云浮",
        ],
    },
    Province {
        name: "广西",
        pinyin: "guangxi",
        cities: &[
            "南宁",
            "柳州",
            "桂林",
            "梧州",
            "北海",
            "防城港",
            "钦州",
            "贵港",
            "玉林",
            "百色",
            "贺州",
            "河池",
            "来宾",
            "崇左",
        ],
    },
    Province {
        name: "海南",
        pinyin: "hainan",
        cities: &["海口", "三亚", "三沙", "儋州", "琼海", "文昌", "万宁"],
    },
    Province {
        name: "四川",
        pinyin: "sichuan",
        cities: &[
            "成都",
            "自贡",
            "攀枝花",
            "泸州",
            "德阳",
            "绵阳",
            "广元",
            "遂宁",
            "内江",
            "乐山",
            "南充",
            "眉山",
            "宜宾",
            "广安",
            "达州",
            "雅安",
            "巴中",
            "资阳",
            "阿坝",
            "甘孜",
            "凉山",
        ],
    },
    Province {
        name: "贵州",
        pinyin: "guizhou",
        cities: &[
            "贵阳",
            "六盘水",
            "遵义",
            "安顺",
            "毕节",
            "铜仁",
            "黔西南",
            "黔东南",
            "黔南",
        ],
    },
    Province {
        name: "云南",
        pinyin: "yunnan",
        cities: &[
            "昆明",
            "曲靖",
            "玉溪",
            "保山",
            "昭通",
            "丽江",
            "普洱",
            "临沧",
            "楚雄",
            "红河",
            "文山",
            "西双版纳",
            "大理",
            "德宏",
            "怒江",
            "迪庆",
        ],
    },
    Province {
        name: "西藏",
        pinyin: "xizang",
        cities: &["拉萨", "日喀则", "昌都", "林芝", "山南", "那曲", "阿里"],
    },
    Province {
        name: "陕西",
        pinyin: "shaanxi",
        cities: &[
            "西安", "铜川", "宝鸡", "咸阳", "渭南", "延安", "汉中", "榆林", "安康", "商洛",
        ],
    },
    Province {
        name: "甘肃",
        pinyin: "gansu",
        cities: &[
            "兰州",
            "嘉峪关",
            "金昌",
            "白银",
            "天水",
            "武威",
            "张掖",
            "平凉",
            "酒泉",
            "庆阳",
            "定西",
            "陇南",
            "临夏",
            "甘南",
        ],
    },
    Province {
        name: "青海",
        pinyin: "qinghai",
        cities: &[
            "西宁",
            "海东",
            "海北",
            "黄南",
            "海南藏族",
            "果洛",
            "玉树",
            "海西",
        ],
    },
    Province {
        name: "宁夏",
        pinyin: "ningxia",
        cities: &["银川", "石嘴山", "吴忠", "固原", "中卫"],
    },
    Province {
        name: "新疆",
        pinyin: "xinjiang",
        cities: &[
            "乌鲁木齐",
            "克拉玛依",
            "吐鲁番",
            "哈密",
            "昌吉",
            "博尔塔拉",
            "巴音郭楞",
            "阿克苏",
            "克孜勒苏",
            "喀什",
            "和田",
            "伊犁",
            "塔城",
            "阿勒泰",
            "石河子",
        ],
    },
];

/// The pinyin of larger Chinese cities (lower case, no tones, no spaces).
pub(crate) const CITY_PINYIN: &[(&str, &str)] = &[
    ("guangzhou", "广州"),
    ("shenzhen", "深圳"),
    ("chengdu", "成都"),
    ("hangzhou", "杭州"),
    ("wuhan", "武汉"),
    ("xian", "西安"),
    ("nanjing", "南京"),
    ("suzhou", "苏州"),
    ("zhengzhou", "郑州"),
    ("changsha", "长沙"),
    ("dongguan", "东莞"),
    ("shenyang", "沈阳"),
    ("qingdao", "青岛"),
    ("hefei", "合肥"),
    ("foshan", "佛山"),
    ("ningbo", "宁波"),
    ("kunming", "昆明"),
    ("dalian", "大连"),
    ("fuzhou", "福州"),
    ("xiamen", "厦门"),
    ("harbin", "哈尔滨"),
    ("jinan", "济南"),
    ("wenzhou", "温州"),
    ("nanning", "南宁"),
    ("changchun", "长春"),
    ("taiyuan", "太原"),
    ("guiyang", "贵阳"),
    ("nanchang", "南昌"),
    ("shijiazhuang", "石家庄"),
    ("wuxi", "无锡"),
    ("zhuhai", "珠海"),
    ("shantou", "汕头"),
    ("lanzhou", "兰州"),
    ("haikou", "海口"),
    ("sanya", "三亚"),
    ("urumqi", "乌鲁木齐"),
    ("hohhot", "呼和浩特"),
    ("yinchuan", "银川"),
    ("xining", "西宁"),
    ("lhasa", "拉萨"),
    ("tangshan", "唐山"),
    ("yantai", "烟台"),
    ("zhongshan", "中山"),
    ("huizhou", "惠州"),
    ("guilin", "桂林"),
    ("luoyang", "洛阳"),
    ("changzhou", "常州"),
    ("nantong", "南通"),
    ("xuzhou", "徐州"),
    ("shaoxing", "绍兴"),
    ("jiaxing", "嘉兴"),
    ("jinhua", "金华"),
    ("weifang", "潍坊"),
    ("baotou", "包头"),
    ("datong", "大同"),
    ("yichang", "宜昌"),
    ("xiangyang", "襄阳"),
    ("zibo", "淄博"),
    ("quanzhou", "泉州"),
    ("mianyang", "绵阳"),
];

/// The largest cities outside the mainland, in their own script, English
/// and Chinese, with their region. A name may stand for several regions
/// (a postcode then decides).
pub(crate) const ABROAD: &[(&str, &str)] = &[
    ("香港", "HK"),
    ("hong kong", "HK"),
    ("九龙", "HK"),
    ("kowloon", "HK"),
    ("澳门", "MO"),
    ("macau", "MO"),
    ("macao", "MO"),
    ("台北", "TW"),
    ("臺北", "TW"),
    ("taipei", "TW"),
    ("高雄", "TW"),
    ("kaohsiung", "TW"),
    ("台中", "TW"),
    ("taichung", "TW"),
    ("东京", "JP"),
    ("東京", "JP"),
    ("tokyo", "JP"),
    ("大阪", "JP"),
    ("osaka", "JP"),
    ("横滨", "JP"),
    ("横浜", "JP"),
    ("yokohama", "JP"),
    ("名古屋", "JP"),
    ("nagoya", "JP"),
    ("京都", "JP"),
    ("kyoto", "JP"),
    ("首尔", "KR"),
    ("서울", "KR"),
    ("seoul", "KR"),
    ("釜山", "KR"),
    ("부산", "KR"),
    ("busan", "KR"),
    ("新加坡", "SG"),
    ("singapore", "SG"),
    ("吉隆坡", "MY"),
    ("kuala lumpur", "MY"),
    ("曼谷", "TH"),
    ("bangkok", "TH"),
    ("雅加达", "ID"),
    ("jakarta", "ID"),
    ("马尼拉", "PH"),
    ("manila", "PH"),
    ("河内", "VN"),
    ("hanoi", "VN"),
    ("胡志明", "VN"),
    ("ho chi minh", "VN"),
    ("孟买", "IN"),
    ("mumbai", "IN"),
    ("新德里", "IN"),
    ("new delhi", "IN"),
    ("delhi", "IN"),
    ("bangalore", "IN"),
    ("bengaluru", "IN"),
    ("迪拜", "AE"),
    ("dubai", "AE"),
    ("柏林", "DE"),
    ("berlin", "DE"),
    ("慕尼黑", "DE"),
    ("münchen", "DE"),
    ("munich", "DE"),
    ("汉堡", "DE"),
    ("hamburg", "DE"),
    ("法兰克福", "DE"),
    ("frankfurt", "DE"),
    ("frankfurt am main", "DE"),
    ("köln", "DE"),
    ("cologne", "DE"),
    ("stuttgart", "DE"),
    ("düsseldorf", "DE"),
    ("伦敦", "GB"),
    ("london", "GB"),
    ("london", "CA"),
    ("manchester", "GB"),
    ("manchester", "US"),
    ("birmingham", "GB"),
    ("birmingham", "US"),
    ("cambridge", "GB"),
    ("cambridge", "US"),
    ("edinburgh", "GB"),
    ("巴黎", "FR"),
    ("paris", "FR"),
    ("lyon", "FR"),
    ("marseille", "FR"),
    ("马德里", "ES"),
    ("madrid", "ES"),
    ("barcelona", "ES"),
    ("罗马", "IT"),
    ("rome", "IT"),
    ("roma", "IT"),
    ("米兰", "IT"),
    ("milan", "IT"),
    ("milano", "IT"),
    ("阿姆斯特丹", "NL"),
    ("amsterdam", "NL"),
    ("rotterdam", "NL"),
    ("维也纳", "AT"),
    ("wien", "AT"),
    ("vienna", "AT"),
    ("苏黎世", "CH"),
    ("zürich", "CH"),
    ("zurich", "CH"),
    ("geneva", "CH"),
    ("genève", "CH"),
    ("brussels", "BE"),
    ("bruxelles", "BE"),
    ("stockholm", "SE"),
    ("copenhagen", "DK"),
    ("københavn", "DK"),
    ("oslo", "NO"),
    ("helsinki", "FI"),
    ("dublin", "IE"),
    ("lisbon", "PT"),
    ("lisboa", "PT"),
    ("warsaw", "PL"),
    ("warszawa", "PL"),
    ("prague", "CZ"),
    ("praha", "CZ"),
    ("莫斯科", "RU"),
    ("москва", "RU"),
    ("moscow", "RU"),
    ("istanbul", "TR"),
    ("纽约", "US"),
    ("new york", "US"),
    ("new york city", "US"),
    ("洛杉矶", "US"),
    ("los angeles", "US"),
    ("旧金山", "US"),
    ("san francisco", "US"),
    ("芝加哥", "US"),
    ("chicago", "US"),
    ("西雅图", "US"),
    ("seattle", "US"),
    ("波士顿", "US"),
    ("boston", "US"),
    ("houston", "US"),
    ("washington", "US"),
    ("多伦多", "CA"),
    ("toronto", "CA"),
    ("温哥华", "CA"),
    ("vancouver", "CA"),
    ("montreal", "CA"),
    ("montréal", "CA"),
    ("悉尼", "AU"),
    ("sydney", "AU"),
    ("墨尔本", "AU"),
    ("melbourne", "AU"),
    ("auckland", "NZ"),
    ("são paulo", "BR"),
    ("sao paulo", "BR"),
    ("mexico city", "MX"),
    ("ciudad de méxico", "MX"),
];

/// Administrative suffixes, longest first: a name is matched without them.
const SUFFIXES: &[&str] = &[
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "地区",
    "新区",
    "省",
    "市",
    "盟",
    "区",
    "县",
];

/// A place name without its administrative suffix (`北京市` → `北京`,
/// `Guangdong Sheng` → `guangdong`), lower case. A name that is all suffix
/// stays whole.
pub(crate) fn strip_suffix(name: &str) -> Cow<'_, str> {
    let name = name.trim();
    for s in SUFFIXES {
        if let Some(rest) = name.strip_suffix(s) {
            if rest.chars().count() >= 2 {
                return Cow::Borrowed(rest);
            }
        }
    }
    let lower = if name.chars().any(char::is_uppercase) {
        Cow::Owned(name.to_lowercase())
    } else {
        Cow::Borrowed(name)
    };
    for s in [
        " shi",
        " sheng",
        " city",
        " province",
        " municipality",
        "shi",
    ] {
        if let Some(rest) = lower.strip_suffix(s) {
            if rest.len() >= 3 {
                return Cow::Owned(rest.trim().to_string());
            }
        }
    }
    lower
}

/// A one-line mainland address split the way Chinese CRMs hold it: the
/// province and the city as written (with their suffixes), and the rest —
/// district, street and number — as the street line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainlandAddress {
    /// The province-level division as written: `广东省`, `北京市`.
    pub province: String,
    /// The prefecture-level city as written: `深圳市`; a municipality's own name for one.
    pub city: String,
    /// The district or county that follows, as written: `南山区` ([`split_district`]).
    pub district: Option<String>,
    /// What follows: `科技园路1号`.
    pub street: String,
}

/// Words that end in 区 without naming a district: a residential compound,
/// a campus, a park, a block.
const NOT_DISTRICTS: &[&str] = &[
    "小区", "社区", "校区", "园区", "景区", "厂区", "街区", "片区", "商区", "营区", "院区",
];

/// The district or county a Chinese street line starts with (`南山区科技园路1号`
/// → `南山区` + `科技园路1号`; `浦东新区…`, `密云县…`, `科尔沁右翼前旗…`): up to
/// nine Han characters ending in 区, 县 or 旗, not a word such as 小区, with
/// something after it.
pub fn split_district(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    for (n, (at, c)) in line.char_indices().enumerate().take(9) {
        if !('\u{3400}'..='\u{9fff}').contains(&c) {
            return None;
        }
        if n == 0 || !matches!(c, '区' | '县' | '旗') {
            continue;
        }
        let end = at + c.len_utf8();
        let (district, street) = (&line[..end], line[end..].trim());
        if NOT_DISTRICTS.iter().any(|w| district.ends_with(w)) || street.is_empty() {
            return None;
        }
        return Some((district.to_string(), street.to_string()));
    }
    None
}

const PROVINCE_SUFFIXES: &[&str] = &[
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
];
const CITY_SUFFIXES: &[&str] = &["自治州", "地区", "市", "盟"];

/// The longest of `names` that `text` starts with, followed by one of
/// `suffixes` when `suffix_needed`, and how many bytes that took.
fn take<'a>(
    text: &str,
    names: impl Iterator<Item = &'a str>,
    suffixes: &[&str],
    suffix_needed: bool,
) -> Option<(&'a str, usize)> {
    let mut best: Option<(&str, usize)> = None;
    for name in names {
        let Some(after) = text.strip_prefix(name) else {
            continue;
        };
        let suffix = suffixes
            .iter()
            .find(|s| after.starts_with(**s))
            .map_or(0, |s| s.len());
        if suffix_needed && suffix == 0 {
            continue;
        }
        if best.is_none_or(|(b, _)| name.len() > b.len()) {
            best = Some((name, name.len() + suffix));
        }
    }
    best
}

/// Splits a one-line mainland address (`广东省深圳市南山区科技园路1号`,
/// `北京市朝阳区建国路88号`, `深圳市福田区…`); none when it does not start
/// with a province or a city (a city alone needs its `市`), or nothing follows.
pub fn split_mainland_address(line: &str) -> Option<MainlandAddress> {
    let line = line.trim();
    if !line
        .chars()
        .next()
        .is_some_and(|c| ('\u{3400}'..='\u{9fff}').contains(&c))
    {
        return None;
    }
    let (province, city, used) = match take(
        line,
        PROVINCES.iter().map(|p| p.name),
        PROVINCE_SUFFIXES,
        false,
    ) {
        Some((name, n)) => {
            let p = PROVINCES.iter().find(|p| p.name == name)?;
            let rest = &line[n..];
            if is_municipality(p) {
                // `北京路100号` is a street: a municipality needs its 市 or a district next.
                let district = p.cities.iter().any(|d| rest.starts_with(d));
                if n == name.len() && !district {
                    return None;
                }
                (&line[..n], &line[..n], n)
            } else {
                let (_, m) = take(rest, p.cities.iter().copied(), CITY_SUFFIXES, false)?;
                (&line[..n], &rest[..m], n + m)
            }
        }
        None => {
            let cities = PROVINCES
                .iter()
                .filter(|p| !is_municipality(p))
                .flat_map(|p| p.cities.iter().copied());
            let (name, m) = take(line, cities, CITY_SUFFIXES, true)?;
            let p = PROVINCES
                .iter()
                .find(|p| !is_municipality(p) && p.cities.contains(&name))?;
            (p.name, &line[..m], m)
        }
    };
    let rest = line[used..].trim();
    if rest.is_empty() {
        return None;
    }
    let (district, street) = match split_district(rest) {
        Some((d, s)) => (Some(d), s),
        None => (None, rest.to_string()),
    };
    Some(MainlandAddress {
        province: province.to_string(),
        city: city.to_string(),
        district,
        street,
    })
}

fn is_municipality(p: &Province) -> bool {
    matches!(p.name, "北京" | "上海" | "天津" | "重庆")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Option<(String, String, String)> {
        split_mainland_address(line).map(|a| {
            let rest = format!("{}{}", a.district.unwrap_or_default(), a.street);
            (a.province, a.city, rest)
        })
    }

    fn parts(p: &str, c: &str, r: &str) -> Option<(String, String, String)> {
        Some((p.into(), c.into(), r.into()))
    }

    #[test]
    fn a_district_is_read_off_the_head_of_the_street() {
        let d = split_district;
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(d("南山区科技园路1号"), pair("南山区", "科技园路1号"));
        assert_eq!(
            d("浦东新区世纪大道100号"),
            pair("浦东新区", "世纪大道100号")
        );
        assert_eq!(d("密云县鼓楼大街1号"), pair("密云县", "鼓楼大街1号"));
        assert_eq!(
            d("科尔沁右翼前旗乌兰浩特路"),
            pair("科尔沁右翼前旗", "乌兰浩特路")
        );
        assert_eq!(d("阳光小区3栋201"), None, "a residential compound");
        assert_eq!(d("科技园路1号"), None);
        assert_eq!(d("南山区"), None, "nothing follows");
        assert_eq!(d("88 Nanjing Road"), None);
        assert_eq!(d("区政府路1号"), None, "a lone 区 names nothing");
        let a = split_mainland_address("广东省深圳市南山区科技园路1号").unwrap();
        assert_eq!(
            (a.district.as_deref(), a.street.as_str()),
            (Some("南山区"), "科技园路1号")
        );
    }

    #[test]
    fn one_line_addresses_split_into_province_city_and_the_rest() {
        assert_eq!(
            split("广东省深圳市南山区科技园路1号"),
            parts("广东省", "深圳市", "南山区科技园路1号")
        );
        assert_eq!(
            split("北京市朝阳区建国路88号"),
            parts("北京市", "北京市", "朝阳区建国路88号")
        );
        assert_eq!(
            split("浙江杭州西湖区文三路90号"),
            parts("浙江", "杭州", "西湖区文三路90号")
        );
        assert_eq!(
            split("新疆维吾尔自治区乌鲁木齐市天山区解放南路1号"),
            parts("新疆维吾尔自治区", "乌鲁木齐市", "天山区解放南路1号")
        );
        // A city alone, with its 市: the province from the table.
        assert_eq!(
            split("深圳市福田区福华路3号"),
            parts("广东", "深圳市", "福田区福华路3号")
        );
        assert_eq!(
            split("朝阳区建国路88号"),
            None,
            "a district alone is no city"
        );
        assert_eq!(split("北京路100号"), None, "a street named after a city");
        assert_eq!(split("重庆南路8号"), None);
        assert_eq!(split("江苏路5号"), None);
        assert_eq!(
            split("上海浦东新区世纪大道100号"),
            parts("上海", "上海", "浦东新区世纪大道100号")
        );
        assert_eq!(split("广东省深圳市"), None, "nothing follows");
        assert_eq!(split("Hauptstraße 5, Berlin"), None);
        assert_eq!(split("广东省某某路1号"), None, "no city of the province");
    }
}
