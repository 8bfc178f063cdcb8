# Sourced by ./dev and .ci/run: puts Node 22+ and the committed Yarn release on PATH.
# When the system's Node is older than 22, Node 22 is installed from the npm package `node@22`
# into .tools/ (git-ignored), with its headers so that native addons compile.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo_root/.tools"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ]; then
  if [ ! -x "$tools/node_modules/node/bin/node" ]; then
    echo "Node $(node --version 2>/dev/null || echo '(none)') is older than 22: installing Node 22 into .tools/" >&2
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error node@22 >&2
  fi
  export PATH="$tools/node_modules/node/bin:$PATH"
  # node@22 ships its headers in the platform package beside the binary; node-gyp builds against them.
  for headers in "$tools"/node_modules/node/node_modules/node-*-*; do
    [ -d "$headers/include/node" ] && export npm_config_nodedir="$headers"
  done
fi

yarn_release="$(ls "$repo_root"/.yarn/releases/yarn-*.cjs | head -1)"
mkdir -p "$tools/bin"
printf '#!/bin/sh\nexec node "%s" "$@"\n' "$yarn_release" > "$tools/bin/yarn"
chmod +x "$tools/bin/yarn"
export PATH="$tools/bin:$PATH"

# Yarn does not read .npmrc: use the registry npm is configured with.
YARN_NPM_REGISTRY_SERVER="$(npm config get registry 2>/dev/null)"
export YARN_NPM_REGISTRY_SERVER="${YARN_NPM_REGISTRY_SERVER%/}"
