"""Reading the CloudWatch embedded-metric-format records in what the function writes: lines of
their own (Powertools Metrics) and log lines that carry metrics."""

import json
from typing import Any


def emitted_metrics(printed: str) -> list[dict[str, Any]]:
    """Each metric published in the output: its name, value and every dimension it carries."""
    found = []
    for line in printed.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            dimensions = {name for names in directive["Dimensions"] for name in names}
            for metric in directive["Metrics"]:
                name = metric["Name"]
                [value] = blob[name] if isinstance(blob[name], list) else [blob[name]]
                found.append(
                    {
                        "name": name,
                        "value": value,
                        "namespace": directive["Namespace"],
                        **{dimension: blob[dimension] for dimension in dimensions},
                    }
                )
    return found
