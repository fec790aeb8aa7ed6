"""The reference job of the benchmark: what a data engineer might write
instead of kvaudit. DuckDB reads the same PT1H.json blobs (JSON Lines, plain
or gzip) and computes the aggregates kvaudit's rate detectors need:

- calls per identity and vault per hour,
- distinct secrets read per identity per day,
- bursts of denied calls (403, or 401 other than the `Authentication`
  challenge) per identity and vault in 5-minute windows,
- sensitive operations (deletes, purges, backups, policy and vault changes).

Each result is written to a Parquet file in OUT, so nothing is optimised away.

    python duckdb_reference.py 'DATA/**/PT1H.json' OUT
"""

import sys
import time

import duckdb

SENSITIVE = [
    "SecretPurge",
    "KeyPurge",
    "CertificatePurge",
    "SecretDelete",
    "KeyDelete",
    "CertificateDelete",
    "SecretBackup",
    "KeyBackup",
    "CertificateBackup",
    "VaultDelete",
    "VaultPut",
    "VaultPatch",
    "VaultAccessPolicyChangedEventGridNotification",
    "SecretSetPolicy",
]

# Explicit columns: faster and steadier than sampling the nested claims.
COLUMNS = """{
    time: 'TIMESTAMP',
    resourceId: 'VARCHAR',
    operationName: 'VARCHAR',
    callerIpAddress: 'VARCHAR',
    identity: 'STRUCT(claim STRUCT(oid VARCHAR, appid VARCHAR, upn VARCHAR,
        "http://schemas.microsoft.com/identity/claims/objectidentifier" VARCHAR))',
    properties: 'STRUCT(id VARCHAR, httpStatusCode INTEGER)'
}"""


def main() -> None:
    files, out = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    db = duckdb.connect()
    db.execute(
        f"""
        CREATE TABLE events AS
        SELECT
            time,
            lower(regexp_extract(resourceId, '/VAULTS/([^/]+)', 1)) AS vault,
            operationName AS operation,
            lower(coalesce(
                identity.claim.oid,
                identity.claim."http://schemas.microsoft.com/identity/claims/objectidentifier",
                identity.claim.appid,
                identity.claim.upn,
                'ip:' || callerIpAddress)) AS identity,
            lower(nullif(regexp_extract(properties.id, '/secrets/([^/?]+)', 1), '')) AS secret,
            properties.httpStatusCode AS status
        FROM read_ndjson('{files}', columns = {COLUMNS}, filename = false)
        """
    )
    queries = {
        "hourly": """
            SELECT identity, vault, date_trunc('hour', time) AS hour, count(*) AS calls
            FROM events GROUP BY ALL""",
        "distinct_secrets": """
            SELECT identity, date_trunc('day', time) AS day, count(DISTINCT secret) AS secrets
            FROM events WHERE secret IS NOT NULL GROUP BY ALL""",
        "denied_bursts": """
            SELECT identity, vault, time_bucket(INTERVAL 5 MINUTE, time) AS window,
                   count(*) AS denied
            FROM events
            WHERE status = 403 OR (status = 401 AND operation <> 'Authentication')
            GROUP BY ALL HAVING count(*) >= 10""",
        "sensitive": f"""
            SELECT identity, vault, operation, count(*) AS calls,
                   min(time) AS first, max(time) AS last
            FROM events WHERE operation IN ({", ".join(f"'{op}'" for op in SENSITIVE)})
            GROUP BY ALL""",
    }
    rows = {}
    for name, query in queries.items():
        db.execute(f"COPY ({query}) TO '{out}/{name}.parquet' (FORMAT parquet)")
        rows[name] = db.execute(f"SELECT count(*) FROM '{out}/{name}.parquet'").fetchone()[0]
    events = db.execute("SELECT count(*) FROM events").fetchone()[0]
    elapsed = time.perf_counter() - started
    print(f"duckdb {duckdb.__version__} events {events} seconds {elapsed:.3f}")
    print(" ".join(f"{k} {v}" for k, v in rows.items()))


if __name__ == "__main__":
    main()
