"""What the server refuses or adds on every request: body sizes, CORS, CSP, HTTPS."""

from __future__ import annotations

from corsheaders.defaults import default_headers
from csp.constants import NONE, SELF, UNSAFE_INLINE

from config.env import env_list
from config.settings.auth import origin
from config.settings.chatkit import CHATKIT, CHATKIT_JS_URL
from config.settings.storage import ATTACHMENTS

# Every body over CHATKIT_MAX_BODY_BYTES is 413 before Django reads it
# (config/body_limit.py); endpoints that take bigger bodies raise it here by path
# prefix: uploads are a file plus its multipart envelope.
BODY_LIMIT_OVERRIDES: dict[str, int] = {
    "/api/attachments/": ATTACHMENTS["MAX_BYTES"] + 65536,
}
# Django's own cap must not be lower.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, CHATKIT["MAX_BODY_BYTES"])

# --- CORS: the frontends that may call /chatkit and /api/ from another origin ------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/(chatkit|api/).*$"
CORS_ALLOW_HEADERS = (*default_headers, "chatkit-frame-instance-id", "x-request-id")
# Cross-origin apps must be able to read how long a 429 asks them to wait.
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Request-ID"]
CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# GZip stays off: it would buffer the /chatkit event stream.

# Content-Security-Policy (django-csp, via config.middleware): our own scripts and
# styles, plus what OpenAI's ChatKit component needs from its CDN origin (its
# script, the frame it renders in, and that frame's assets). Styles allow inline:
# the component sets them at run time. Nothing inline runs as script.
_CHATKIT_ORIGIN = origin(CHATKIT_JS_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, _CHATKIT_ORIGIN],
        "style-src": [SELF, UNSAFE_INLINE, _CHATKIT_ORIGIN],
        "img-src": [SELF, "data:", "blob:", _CHATKIT_ORIGIN],
        "font-src": [SELF, "data:", _CHATKIT_ORIGIN],
        "connect-src": [SELF, _CHATKIT_ORIGIN, "https://api.openai.com"],
        "frame-src": [_CHATKIT_ORIGIN],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}
