# shellcheck shell=bash
# Sourced by vmtests/run and vmtests/systemd-agent: copying host programs and
# the libraries they load into an initramfs tree at $root, at the same paths
# as on the host. The sourcing script sets root and defines die.
# shellcheck disable=SC2154 # root: set by the sourcing script

is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

# Copy host file $1 into the initramfs at the same path, following symlinks.
# Directory components are resolved so that the copy lands where the
# initramfs' own /lib -> usr/lib style links point.
put_lib() {
    local src=$1 dir dest
    dir=$(realpath "$(dirname "$src")")
    dest="$root$dir/$(basename "$src")"
    [ -e "$dest" ] && return 0
    mkdir -p "$root$dir"
    cp -L "$src" "$dest"
}

# Copy every shared library ldd lists for ELF file $1 (and the loader).
put_deps() {
    local f=$1 out line lib
    is_elf "$f" || return 0
    out=$(LC_ALL=C ldd "$f" 2>&1) || return 0 # static, or not for this machine
    if grep -q 'not found' <<<"$out"; then
        echo "$out" >&2
        die "'$f' needs a library that is not installed on the host"
    fi
    while read -r line; do
        lib=$(awk '$2 == "=>" && $3 ~ /^\// {print $3; next} $1 ~ /^\// {print $1}' <<<"$line")
        [ -z "$lib" ] || put_lib "$lib"
    done <<<"$out"
}

# The root tree's merged-/usr links (lib -> usr/lib, ...) as on the host, so
# that the loader and library paths ldd reports resolve the same way.
put_usr_links() {
    local d
    for d in lib lib32 lib64 libx32 bin sbin; do
        if [ -L "/$d" ] && [ ! -e "$root/$d" ]; then
            ln -s "$(readlink "/$d")" "$root/$d"
            mkdir -p "$root/$(realpath "/$d")"
        fi
    done
}

# Busybox at /bin/busybox with a link for each of its applets, where the
# tree has no file of that name yet.
put_busybox() { # path of a static busybox
    local applet
    cp -L "$1" "$root/bin/busybox"
    put_deps "$1"
    while read -r applet; do
        if [ -z "$applet" ] || [ "$applet" = bin/busybox ]; then continue; fi
        mkdir -p "$root/$(dirname "$applet")"
        [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
    done < <("$1" --list-full)
}
