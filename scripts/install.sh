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
# llama-cpp-python compiles llama.cpp for this CPU (-march=native). On CPUs with AMX (Xeon Sapphire
# Rapids and later) that includes llama.cpp's AMX kernels, which crash in their first matrix product
# (ggml_backend_amx_mul_mat; ggml-org/llama.cpp#20824, closed without a fix): seen here with the
# Gemma GGUF. So it is built without them; every other instruction set of the CPU stays in use.
# (Only where the compiler knows the flags: GCC 11+ and clang 12+; older ones predate AMX anyway.)
if [ "$(uname -m)" = x86_64 ] && echo 'int x;' | "${CC:-cc}" -mno-amx-int8 -x c -c -o /dev/null - 2>/dev/null; then
  export CFLAGS="${CFLAGS:-} -mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  export CXXFLAGS="${CXXFLAGS:-} -mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
fi
python3 -m pip install --quiet -e ".[dev,llamacpp]"
# pip reuses a wheel it built earlier, whatever the flags: one with the AMX kernels is dropped from
# pip's cache and rebuilt once (the new wheel is cached in its place).
if python3 -c "import sys, llama_cpp; sys.exit(b'AMX_INT8 = 1' not in llama_cpp.llama_print_system_info())" 2>/dev/null; then
  echo "install.sh: rebuilding llama-cpp-python without llama.cpp's AMX kernels (about 10 minutes)" >&2
  version=$(python3 -c "import llama_cpp; print(llama_cpp.__version__)")
  python3 -m pip cache remove llama_cpp_python >/dev/null 2>&1 || true
  python3 -m pip install --quiet --force-reinstall --no-deps "llama-cpp-python==${version}"
fi
