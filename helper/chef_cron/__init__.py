"""Run ``chef-client --once`` from cron with a lock, a splay and a status file."""

__version__ = "0.1.0"
