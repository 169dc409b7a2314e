"""Log lines as one JSON object each (ICI_LOG_FORMAT=json).

Every line has `time` (UTC, ISO 8601), `level`, `logger`, `message` and
`request_id` (RequestIdFilter); the fields a caller passed with `extra=` (for a
partner call: `bid`, `partner`, `operation`, `outcome`, ...) come as they are,
and a traceback as `exception`. Callers never pass a secret in `extra`.
"""

import datetime
import json
import logging

from icintegrations.middleware import current_request_id

# The attributes every LogRecord has: anything else was passed with `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
