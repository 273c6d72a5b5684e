#!/usr/bin/env bash
# Installs everything Souwen and its tests need on a fresh Debian machine, from project files only:
# Debian's tesseract (for scanned PDFs) and chromium (for the browser tests) when root with apt, and
# the Python package with its dev and llamacpp extras. torch is pinned in pyproject.toml to the CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -q chi_sim \
      || [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then
    apt-get update -qq
    # chromium: the browser the UI tests drive through Playwright (never a downloaded one), with a
    # Chinese font so screenshots of Chinese text are readable
    apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim chromium fonts-wqy-zenhei >/dev/null
  fi
else
  echo "install.sh: not root or no apt-get: skipping tesseract (OCR of scanned PDFs will be unavailable)" >&2
fi
python3 -m pip install --quiet -e ".[dev,llamacpp]"
