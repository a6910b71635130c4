"""
Driftline retraining as an Airflow DAG (RETRAIN_MODE=airflow).

Driftline's retrain consumer starts a run of this DAG through Airflow's stable REST API
(POST /api/v1|v2/dags/driftline_retraining/dagRuns) with the drift summary in ``conf``:
``model``, ``trigger``, ``reason``, ``drift_event_id``, ``retrain_run_id``, ``champion_version``,
``drifted_features``, ``performance`` ... The DAG's tasks run the ``driftline`` command on a worker
that has the project installed and reaches Kafka, the schema registry, ClickHouse and the model
registry (``DRIFTLINE_HOME``): the run ends in the same registry version, ``retrain_runs`` row and
``model-deployments`` announcement as an in-process retraining.

The tasks run with ``RETRAIN_MODE=inprocess``: they train; they must not start another DAG run.
``driftline retrain`` keeps the label minimum (RETRAIN_MIN_LABELS) and skips the cooldown (it was
checked when the run was started). Exit code 1 (refused or failed) fails the task.

Worker settings (Airflow Variables, with defaults):
  driftline_command   the command to run, default ``npx --prefix /opt/driftline driftline``
  driftline_env       JSON object of environment variables for the tasks (KAFKA_BROKERS,
                      SCHEMA_REGISTRY_URL, CLICKHOUSE_URL, DRIFTLINE_HOME, ...), default {}
Works on Airflow 2.4+ and Airflow 3 (``schedule=None``: only triggered runs).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from datetime import datetime

try:  # Airflow 3
    from airflow.sdk import DAG, Variable, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models import Variable

MODEL_NAME = r"^[a-z][a-z0-9-]*$"


def _command() -> list[str]:
    return shlex.split(Variable.get("driftline_command", default="npx --prefix /opt/driftline driftline"))


def _env() -> dict[str, str]:
    extra = json.loads(Variable.get("driftline_env", default="{}"))
    env = {**os.environ, **{str(k): str(v) for k, v in extra.items()}}
    # This run is the training: never start another DAG run from inside it.
    env["RETRAIN_MODE"] = "inprocess"
    return env


with DAG(
    dag_id="driftline_retraining",
    description="Retrain a Driftline model on recent labelled traffic; promote and deploy it if it beats the champion",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["driftline"],
) as dag:

    @task
    def read_conf(**context) -> dict:
        """The drift summary Driftline sent; refuses a run without a valid model name."""
        import re

        conf = dict(context["dag_run"].conf or {})
        model = conf.get("model")
        if not isinstance(model, str) or not re.match(MODEL_NAME, model):
            raise ValueError(f"conf.model must be a Driftline model name; got {model!r}")
        return {
            "model": model,
            "reason": str(conf.get("reason") or "airflow"),
            "drift_event_id": str(conf.get("drift_event_id") or ""),
            "retrain_run_id": str(conf.get("retrain_run_id") or ""),
        }

    @task
    def retrain(conf: dict, **context) -> dict:
        """``driftline retrain``: train, score champion and challenger, promote and deploy if better."""
        run_id = context["dag_run"].run_id
        args = [
            *_command(),
            "retrain",
            "--model",
            conf["model"],
            "--reason",
            f"airflow {run_id}: {conf['reason']}"[:1000],
            "--json",
        ]
        if conf["drift_event_id"]:
            args += ["--drift-event", conf["drift_event_id"]]
        done = subprocess.run(args, env=_env(), capture_output=True, text=True, check=False)
        print(done.stderr[-20000:])
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        result = json.loads(lines[-1]) if lines else {}
        print(json.dumps(result, indent=2))
        if done.returncode != 0:
            raise RuntimeError(
                f"driftline retrain exited {done.returncode}: {result.get('state', 'failed')}: {result.get('reason', '')}"
            )
        return result

    @task
    def report(result: dict) -> None:
        """The outcome in the task log: promoted (and deployed) or rejected, with both RMSEs."""
        print(
            f"{result.get('model_name')}: {result.get('state')} "
            f"(champion v{result.get('champion_version')} RMSE {result.get('champion_rmse')}, "
            f"challenger v{result.get('challenger_version')} RMSE {result.get('challenger_rmse')}); "
            f"{result.get('reason')}"
        )

    report(retrain(read_conf()))
