"""docs/chatkit.md's React guide, and the options the built-in page gives ChatKit's
web component, type-check against the real ChatKit packages.

Every TypeScript block of the guide that starts with a file name (`// lib/x.ts`)
is written into a temporary project and checked with `tsc --noEmit` against
`@openai/chatkit-react` 1.6.1 and `@openai/chatkit` 1.9.0 from npm, installed once
into var/chatkit-types/. Next.js and Better Auth are not installed: a few lines of
declarations stand in for the parts of them the guide uses (their real types are
not what this checks). Without node and npm the test is skipped, unless `CI` is
set: then it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

GUIDE = Path(settings.BASE_DIR) / "docs" / "chatkit.md"
PAGE_OPTIONS = Path(settings.BASE_DIR) / "static" / "js" / "chatkit-options.js"
CACHE = Path(settings.BASE_DIR) / "var" / "chatkit-types"
PACKAGES = {
    "@openai/chatkit-react": "1.6.1",
    "@openai/chatkit": "1.9.0",
    "typescript": "5.9.3",
    "react": "19.3.1",
    "react-dom": "19.3.1",  # a peer of chatkit-react: pinned with react
    "@types/react": "19.3.3",
}
BLOCK = re.compile(r"```(?:ts|tsx)\n// (?P<path>[\w./-]+\.tsx?)\n(?P<body>.*?)```", re.DOTALL)

# Stand-ins for the packages the guide uses besides ChatKit's and React's.
STUBS = """
declare const process: { env: Record<string, string | undefined> }; // Next.js has @types/node
declare module "next/navigation" {
  export function useRouter(): { push(href: string): void; refresh(): void };
}
declare module "better-auth" {
  export function betterAuth(options: Record<string, unknown>): unknown;
}
declare module "better-auth/plugins" {
  export function jwt(): unknown;
}
declare module "better-auth/react" {
  export function createAuthClient(options: { plugins: unknown[] }): {
    token(): Promise<{ data: { token: string } | null; error: unknown }>;
  };
}
declare module "better-auth/client/plugins" {
  export function jwtClient(): unknown;
}
declare module "@/lib/toast" {
  export function toast(message: string): void;
}
"""

TSCONFIG = {
    "compilerOptions": {
        "target": "ES2022",
        "lib": ["ES2022", "DOM", "DOM.Iterable"],
        "module": "ESNext",
        "moduleResolution": "Bundler",
        "jsx": "react-jsx",
        "strict": True,
        "noEmit": True,
        "skipLibCheck": True,
        "types": [],
        "baseUrl": ".",
        "paths": {"@/*": ["./*"]},
    },
    "include": ["**/*.ts", "**/*.tsx"],
    "exclude": ["node_modules"],
}


def guide_files(text: str) -> dict[str, str]:
    """The guide's file-named TypeScript blocks, by path (one copy of each)."""
    files: dict[str, str] = {}
    for match in BLOCK.finditer(text):
        path = match["path"]
        assert path not in files, f"{path} appears twice in the guide"
        files[path] = f"// {path}\n{match['body']}"
    return files


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the guide must be type-checked)")
    pytest.skip(reason)


def _installed() -> bool:
    for name, version in PACKAGES.items():
        manifest = CACHE / "node_modules" / name / "package.json"
        if not manifest.exists() or json.loads(manifest.read_text())["version"] != version:
            return False
    return True


def _install() -> Path:
    """node_modules with the pinned packages (installed once, then reused)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        _unavailable("node and npm are needed to type-check docs/chatkit.md")
    if not _installed():
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "package.json").write_text('{"name": "chatkit-types", "private": true}\n')
        specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--save-exact", *specs],
            cwd=CACHE,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not _installed():
            _unavailable(f"npm could not install the ChatKit packages: {done.stderr[-500:]}")
    return CACHE / "node_modules"


def test_the_guide_names_its_files_once_each():
    files = guide_files(GUIDE.read_text())
    assert {"app/chat/chat.tsx", "lib/chatkit-session.ts", "lib/local-date.ts"} <= set(files)


def test_the_guide_sets_every_option_the_server_answers():
    chat = guide_files(GUIDE.read_text())["app/chat/chat.tsx"]
    for option in (
        'uploadStrategy: { type: "two_phase" }',
        "threadItemActions: { feedback: true, retry: true }",
        "onTagSearch",
        "onClick",
        "onRequestPreview",
        "onClientTool",
        '"get_local_date"',
        '{ id: "add_todo"',
        '{ id: "search_todos"',
        "models: MODELS",
    ):
        assert option in chat, option


@pytest.mark.slow
def test_the_guides_code_type_checks_against_chatkit(tmp_path):
    node_modules = _install()
    for path, source in guide_files(GUIDE.read_text()).items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source)
    (tmp_path / "stubs.d.ts").write_text(STUBS)
    (tmp_path / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    (tmp_path / "node_modules").symlink_to(node_modules, target_is_directory=True)

    done = subprocess.run(
        [str(node_modules / ".bin" / "tsc"), "--noEmit", "-p", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr


# The page's modules hang off window.TodoChat; only the options' own types are checked.
PAGE_GLOBALS = """
interface Window { TodoChat: any }
"""


@pytest.mark.slow
def test_the_pages_chatkit_options_type_check_against_chatkit(tmp_path):
    """static/js/chatkit-options.js (no build step) declares its results as ChatKit's
    types in JSDoc; tsc checks the object literals against them."""
    node_modules = _install()
    (tmp_path / "chatkit-options.js").write_text(PAGE_OPTIONS.read_text())
    (tmp_path / "globals.d.ts").write_text(PAGE_GLOBALS)
    (tmp_path / "node_modules").symlink_to(node_modules, target_is_directory=True)
    options = {
        **TSCONFIG["compilerOptions"],
        "allowJs": True,
        "checkJs": True,
        "strict": False,  # plain JS: untyped parameters are fine, wrong option shapes are not
    }
    (tmp_path / "tsconfig.json").write_text(
        json.dumps({"compilerOptions": options, "include": ["*.js", "*.d.ts"]})
    )

    done = subprocess.run(
        [str(node_modules / ".bin" / "tsc"), "--noEmit", "-p", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
