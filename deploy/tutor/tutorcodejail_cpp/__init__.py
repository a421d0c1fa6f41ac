"""Tutor plugin for codejail-service (C++); the hooks are in plugin.py."""
