"""Reads an OpenMetrics exposition on stdin with the Python prometheus_client parser (strict:
it refuses what does not follow the format) and prints every sample as one JSON line:
{"name": ..., "labels": {...}, "value": ...}. Used by tests/operations.rs."""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        print(json.dumps({"name": sample.name, "labels": sample.labels, "value": sample.value}))
