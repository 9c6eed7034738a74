"""The dossier lake: the warehouse's dossiers as Hive-partitioned Parquet, behind an atomically swapped manifest.

Layout (one folder, e.g. data/lake/):

    manifest.json                                  the only entry point: readers open exactly the files it names
    province=01/month=2024-07/part-<id>-0.parquet  dossiers received in that month, in that province
    reference/procedures-<hash>.parquet            the procedure catalogue the measures join (and units)

`export` (lake.store) rewrites only the partitions whose rows changed since the manifest, then swaps the
manifest with an atomic rename, then deletes files that neither the new manifest nor the one it replaced
names. `duckdb_views` / `spark_views` (lake.read) open a lake as the `dossiers` and `procedures` views
the measure SQL reads.
"""

from .read import LakeError, duckdb_views, read_manifest, spark_views, verify
from .store import MANIFEST, export

__all__ = ["MANIFEST", "LakeError", "duckdb_views", "export", "read_manifest", "spark_views", "verify"]
