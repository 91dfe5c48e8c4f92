"""Writes the sample files in this folder (deterministic; standard library only).

customers.csv: 300 rows as a Chinese CRM export would have them (UTF-8 with a
BOM, Chinese headers), Chinese and English customers, with deliberately bad rows
and in-file duplicates. purchases.csv: their purchases, amounts in yuan.
    python3 examples/data/make_sample.py
"""
import csv
import os
import random

rng = random.Random(20261123)
here = os.path.dirname(os.path.abspath(__file__))

FAMILY = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 林 罗 高".split()
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 浩然 子涵 欣怡".split()
CITIES = [("北京", "北京市", "100000"), ("上海", "上海市", "200000"), ("广州", "广东省", "510000"),
          ("深圳", "广东省", "518000"), ("杭州", "浙江省", "310000"), ("成都", "四川省", "610000"),
          ("南京", "江苏省", "210000"), ("武汉", "湖北省", "430000")]
STREETS = "人民路 中山路 解放路 建设路 和平路 长江路 南京路 文化路".split()
COMPANIES = "华为技术 阿里巴巴 腾讯科技 京东商城 小米科技 美团 字节跳动 网易".split()
TITLES = "经理 销售总监 工程师 采购主管 行政助理 财务".split()
EN_GIVEN = "James Emma Oliver Amelia Harry Isla George Ava Noah Mia Jack Sophie".split()
EN_FAMILY = "Smith Jones Taylor Brown Williams Wilson Johnson Davies Evans Walker".split()
EN_PLACES = [("London", "", "SW1A 1AA", "United Kingdom", "+44 20 7946 0{:03d}"),
             ("Manchester", "", "M1 1AE", "GB", "+44 161 496 0{:03d}"),
             ("New York", "NY", "10001", "US", "+1 212 555 0{:03d}"),
             ("San Francisco", "CA", "94105", "United States", "+1 415 555 0{:03d}")]
TAGS = ["VIP", "老客户", "批发", "线上", "newsletter", "展会"]
LEVELS = ["silver", "gold", "platinum"]

HEADER = ["客户编号", "姓名", "手机", "邮箱", "公司", "职位", "地址", "城市", "省", "邮编", "国家",
          "生日", "标签", "会员等级"]


def chinese(i):
    fam, giv = rng.choice(FAMILY), rng.choice(GIVEN)
    city, prov, post = rng.choice(CITIES)
    phone = "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
    if rng.random() < 0.3:
        phone = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    if rng.random() < 0.2:
        phone = "+86 " + phone
    email = f"{rng.choice(['wei', 'li', 'zhang', 'chen', 'yang'])}.{i}@{rng.choice(['163.com', 'qq.com', 'example.cn'])}"
    return [f"C{i:05d}", fam + giv, phone, email if rng.random() < 0.8 else "",
            rng.choice(COMPANIES), rng.choice(TITLES), f"{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            city, prov, post, "中国" if rng.random() < 0.7 else "",
            f"{rng.randint(1955, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "、".join(rng.sample(TAGS, rng.randint(0, 2))), rng.choice(LEVELS + ["", ""])]


def english(i):
    giv, fam = rng.choice(EN_GIVEN), rng.choice(EN_FAMILY)
    city, region, post, country, phone = rng.choice(EN_PLACES)
    return [f"C{i:05d}", f"{giv} {fam}", phone.format(rng.randint(0, 999)),
            f"{giv.lower()}.{fam.lower()}{i}@example.com", rng.choice(["Acme Ltd", "Globex", ""]),
            rng.choice(["Buyer", "CTO", ""]), f"{rng.randint(1, 200)} High Street", city, region, post,
            country, f"{rng.randint(1950, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            rng.choice(["newsletter", "VIP", ""]), rng.choice(LEVELS + [""])]


rows = []
for i in range(1, 281):
    rows.append(chinese(i) if rng.random() < 0.7 else english(i))
# Deliberately bad rows, each with one clear problem.
bad = [
    ["C90001", "赵敏", "13812345678", "zhao.min@@163.com", "", "", "", "北京", "", "100000", "中国", "1990-01-01", "", ""],
    ["C90002", "钱多多", "13912345678", "qian@example.cn", "", "", "", "上海", "", "2000", "中国", "1988-02-02", "", ""],
    ["C90003", "孙悟空", "13712345678", "sun@example.cn", "", "", "", "", "", "", "", "2090-05-05", "", ""],
    ["C90004", "", "13612345678", "noname@example.cn", "", "", "", "", "", "", "", "", "", ""],
    ["C90005", "Olivia Brown", "+44 20 7946 0999", "olivia@example.com", "", "", "", "London", "", "SW1A 1AA", "GB", "1985-13-40", "", ""],
    ["C90006", "周杰", "13512345678", "zhou@example.cn", "", "", "", "", "", "", "", "", "", "diamond"],
]
rows.extend(bad)
# In-file duplicates: the same customer id again (a re-exported row).
for src in (rows[3], rows[10], rows[50]):
    dup = list(src)
    dup[5] = dup[5] or "经理"
    rows.append(dup)
rng.shuffle(rows)

with open(os.path.join(here, "customers.csv"), "w", newline="", encoding="utf-8-sig") as f:
    w = csv.writer(f)
    w.writerow(HEADER)
    w.writerows(rows)
    # A ragged row: a missing delimiter.
    f.write("C90007,郑和,13412345678\r\n")

with open(os.path.join(here, "purchases.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["订单号", "客户编号", "日期", "金额", "渠道", "数量"])
    n = 0
    for i in range(1, 281):
        for _ in range(rng.randint(0, 4)):
            n += 1
            w.writerow([f"P{n:06d}", f"C{i:05d}",
                        f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(8, 21):02d}:{rng.randint(0, 59):02d}:00",
                        f"{rng.randint(10, 5000)}.{rng.randint(0, 99):02d}", rng.choice(["web", "store", "wechat", "app"]),
                        rng.randint(1, 5)])
    w.writerow(["P999999", "C77777", "2025-06-01 10:00:00", "99.00", "web", 1])
