"""Prometheus metrics, the bounded exporter server, the dashboard and alert rules."""
