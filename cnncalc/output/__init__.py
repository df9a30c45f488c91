"""Figures → what a person reads: tables, JSON, CSV, Markdown, diagrams and plots. Nothing here computes figures."""
