"""Shipped monitoring assets: a Grafana dashboard and Prometheus alerting rules for the qms metrics."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
DASHBOARD = HERE / "grafana-dashboard.json"
ALERTS = HERE / "prometheus-alerts.yml"
