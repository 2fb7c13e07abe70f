#!/usr/bin/env bash
# Fetches the Kafka and Cassandra jars from Maven Central into $DEV_HOME/jars/{kafka,cassandra}.
# Cached: a folder is re-resolved only when its pom changes (the pom's hash is stored beside it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
DEV_HOME="${DEV_HOME:-$here/../../.dev}"
PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"
for server in kafka cassandra; do
  pom="$here/$server-pom.xml"
  out="$DEV_HOME/jars/$server"
  hash="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [ -f "$out/.pom.sha256" ] && [ "$(cat "$out/.pom.sha256")" = "$hash" ]; then
    echo "fetch: $server jars cached in $out"
    continue
  fi
  echo "fetch: resolving $server jars (first time: a few minutes)"
  rm -rf "$out" && mkdir -p "$out"
  mvn -B -q -f "$pom" "$PLUGIN" -DincludeScope=runtime -DoutputDirectory="$out"
  echo "$hash" > "$out/.pom.sha256"
  echo "fetch: $server: $(ls "$out" | wc -l) jars"
done
