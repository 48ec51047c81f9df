#!/usr/bin/python3
"""Runs the lab's Django site: /usr/bin/python3 manage.py runserver 127.0.0.1:PORT --noreload"""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
