#!/usr/bin/env bash
# Copies every version of the notifier templates Burrow shipped (config/*.tmpl in any commit of
# its history, releases 1.2.1 to 1.9.5 included) into
# crates/burrow-notify/tests/go-templates/burrow/, one file per distinct blob
# (<name>@<blob>.tmpl), with MANIFEST listing the release tags that ship each.
#
# usage: scripts/collect-burrow-templates.sh BURROW_GIT_DIR
set -euo pipefail
src=${1:?usage: $0 BURROW_GIT_DIR}
out=$(cd "$(dirname "$0")/.." && pwd)/crates/burrow-notify/tests/go-templates/burrow
mkdir -p "$out"
git="git --git-dir=$src"
[ -d "$src/.git" ] && git="git --git-dir=$src/.git"
declare -A tags
for tag in $($git tag); do
  while read -r _ _ blob path; do
    tags[$blob]+="$tag "
  done < <($git ls-tree -r "$tag" -- config docker-config | grep '\.tmpl$' || true)
done
: > "$out/MANIFEST"
for commit in $($git log --all --format=%H -- 'config/*.tmpl' 'docker-config/*.tmpl'); do
  $git ls-tree -r "$commit" -- config docker-config | grep '\.tmpl$' || true
done | awk '{print $3, $4}' | sort -u | while read -r blob path; do
  name=$(basename "$path" .tmpl)@${blob:0:10}.tmpl
  $git cat-file -p "$blob" > "$out/$name"
  echo "$name ${path} releases: ${tags[$blob]:-(between releases)}" >> "$out/MANIFEST"
done
sort -o "$out/MANIFEST" "$out/MANIFEST"
echo "collected $(wc -l < "$out/MANIFEST") templates into $out"
