"""Evidently's side of `npm run bench:evidently` (bench/evidently-side-by-side.ts).

  python evidently_run.py verdicts MANIFEST.json   -> one JSON object on stdout: per pair, per column
  python evidently_run.py time REFERENCE.csv CURRENT.csv [--new-preset]  -> seconds, read_csv included
  python evidently_run.py child COMMAND...   -> wall and CPU seconds of a command (for driftline's side)

Runs Evidently's legacy DataDriftPreset (default stattest selection) on CSVs read by pandas'
read_csv with its defaults, as a user of Evidently would.
"""
import json
import resource
import subprocess
import sys
import time
import warnings

import pandas as pd

warnings.filterwarnings("ignore")


def legacy_report(reference: pd.DataFrame, current: pd.DataFrame) -> dict:
    from evidently.legacy.metric_preset import DataDriftPreset
    from evidently.legacy.report import Report

    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=reference, current_data=current)
    return report.as_dict()


def new_report(reference: pd.DataFrame, current: pd.DataFrame) -> dict:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    return Report([DataDriftPreset()]).run(current, reference).dict()


def number(value):
    """JSON has no NaN or infinity: those become strings."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    return value


def verdicts(manifest_path: str) -> None:
    with open(manifest_path) as f:
        manifest = json.load(f)
    out = {}
    for pair in manifest["pairs"]:
        reference = pd.read_csv(pair["reference"])
        current = pd.read_csv(pair["current"])
        metrics = legacy_report(reference, current)["metrics"]
        table = next(m for m in metrics if m["metric"] == "DataDriftTable")["result"]
        dataset = next(m for m in metrics if m["metric"] == "DatasetDriftMetric")["result"]
        columns = {}
        for name, c in table["drift_by_columns"].items():
            columns[name] = {
                "column_type": c["column_type"],
                "stattest_name": c["stattest_name"],
                "stattest_threshold": number(c["stattest_threshold"]),
                "drift_score": number(c["drift_score"]),
                "drift_detected": bool(c["drift_detected"]),
            }
        out[pair["name"]] = {"dataset_drift": bool(dataset["dataset_drift"]), "columns": columns}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


def timing(reference_path: str, current_path: str, new_preset: bool) -> None:
    run = new_report if new_preset else legacy_report
    # Import outside the timed part: only reading and the report count.
    run(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), pd.DataFrame({"x": [1.0, 2.0, 4.0]}))
    start, cpu = time.perf_counter(), time.process_time()
    run(pd.read_csv(reference_path), pd.read_csv(current_path))
    print(json.dumps({"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}))


def child(command: list) -> None:
    """Wall and CPU time (user + system, all threads) of a command; its stdout is discarded."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime}))


if __name__ == "__main__":
    if sys.argv[1] == "verdicts":
        verdicts(sys.argv[2])
    elif sys.argv[1] == "time":
        timing(sys.argv[2], sys.argv[3], "--new-preset" in sys.argv[4:])
    elif sys.argv[1] == "child":
        child(sys.argv[2:])
    else:
        sys.exit(f"unknown mode {sys.argv[1]!r}; expected verdicts, time or child")
