"""Dedupe a CSV file with kehu: clusters, pairs to review, and why two records match.

Run: python examples/python/dedupe_csv.py [FILE.csv]   (default: a small generated file)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import kehu

SAMPLE = """id,姓名,手机,邮箱,城市,生日
1,张伟,+86 138 1234 5678,zhang.wei@qq.com,上海,1990-05-01
2,张 伟,13812345678,Zhang.Wei@QQ.com,上海市,1990-05-01
3,李娜,+86 139 0000 1111,li.na@163.com,北京,1985-11-20
4,Anna Schmidt,+49 30 1234567,anna@schmidt.de,Berlin,1979-02-14
5,Anna Schmitt,030 1234567,anna@schmidt.de,Berlin,1979-02-14
6,王芳,+86 137 2222 3333,wang.fang@126.com,广州,1992-07-07
"""


def main() -> None:
    if len(sys.argv) > 1:
        path = Path(sys.argv[1])
    else:
        path = Path(tempfile.gettempdir()) / "kehu-dedupe-sample.csv"
        path.write_text(SAMPLE, encoding="utf-8")

    result = kehu.dedupe(path, progress=lambda done, total, *_: None)
    print(result)
    print("fields:", ", ".join(f"{name} ({kind})" for name, kind in result.fields))
    for cluster in result.clusters[:10]:
        print("  same customer:", "  ~  ".join(cluster))
    for pair in result.reviews[:10]:
        print(f"  to review: {pair.id_l} ~ {pair.id_r} ({pair.probability:.2f})")
    if result.matches:
        first = result.matches[0]
        print()
        print(result.explain(first.id_l, first.id_r))


if __name__ == "__main__":
    main()
