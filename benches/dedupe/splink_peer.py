#!/usr/bin/env python3
"""Splink 5 (DuckDB backend), the peer of `kehu dedupe`, on a generated customers file.

  python splink_peer.py CUSTOMERS.csv PAIRS_OUT.csv CLUSTERS_OUT.csv [--threshold 0.9]

The full pipeline, as Splink's own tutorials run it on data like this: clean the
columns in SQL (Splink expects standardised input; kehu normalises internally),
estimate the prior from deterministic rules, u from random pairs, m by EM on two
blocking rules, predict, and cluster at the threshold. Writes id_l,id_r,probability
for the predicted pairs at or above the threshold, and id,cluster_id.
"""
import argparse
import csv
import time

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("customers")
    ap.add_argument("pairs_out")
    ap.add_argument("clusters_out")
    ap.add_argument("--threshold", type=float, default=0.9)
    a = ap.parse_args()
    t0 = time.perf_counter()
    con = duckdb.connect()
    # The same cleaning kehu does internally: case, spaces, phone digits, dates.
    con.execute(
        f"""
        create table customers as
        select id,
               nullif(lower(trim(first_name)), '') as first_name,
               nullif(lower(trim(last_name)), '') as last_name,
               nullif(lower(trim(email)), '') as email,
               nullif(right(regexp_replace(phone, '[^0-9]', '', 'g'), 9), '') as phone,
               nullif(regexp_replace(date_of_birth, '^([0-9]{{4}})([0-9]{{2}})([0-9]{{2}})$', '\\1-\\2-\\3'), '') as date_of_birth,
               nullif(lower(trim(street)), '') as street,
               nullif(lower(trim(city)), '') as city,
               nullif(upper(replace(postcode, ' ', '')), '') as postcode
        from read_csv('{a.customers}', all_varchar = true, header = true)
        """
    )
    db_api = DuckDBAPI(connection=con)
    df = db_api.register("customers")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="id",
        comparisons=[
            cl.ForenameSurnameComparison("first_name", "last_name"),
            cl.EmailComparison("email"),
            cl.LevenshteinAtThresholds("phone", 1),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.8]),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.PostcodeComparison("postcode"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("first_name", "last_name"),
            block_on("last_name", "first_name"),
            block_on("date_of_birth", "substr(first_name, 1, 1)"),
            block_on("date_of_birth", "substr(last_name, 1, 1)"),
            block_on("postcode", "substr(street, 1, 3)"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(df, settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("phone")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "last_name")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    predictions = linker.inference.predict(threshold_match_probability=a.threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=a.threshold
    )
    pairs = con.execute(
        f"select id_l, id_r, match_probability from {predictions.physical_name}"
    ).fetchall()
    members = con.execute(f"select id, cluster_id from {clusters.physical_name}").fetchall()
    elapsed = time.perf_counter() - t0
    with open(a.pairs_out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id_l", "id_r", "probability"])
        w.writerows(pairs)
    with open(a.clusters_out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "cluster_id"])
        w.writerows(members)
    print(f"splink pipeline {elapsed:.2f} s, {len(pairs)} pairs")


if __name__ == "__main__":
    main()
