# pctx-bpf in a container image: built on Debian bookworm, shipped as the
# binary and the shared libraries it links, nothing else (no shell, no libc
# tools). Runs with CAP_BPF and CAP_PERFMON; see the README's "Containers".
#
#   docker build -t pctx-bpf .
#   docker run --rm --cap-drop ALL --cap-add BPF --cap-add PERFMON \
#     --security-opt seccomp=unconfined pctx-bpf doctor
#
# vmlinux.h is generated from the build host's /sys/kernel/btf/vmlinux (a
# docker build sees the host's /sys); without it, pass a checked-in header:
#   docker build --build-arg VMLINUX_H=bpf/vmlinux.h .
# CO-RE makes the result run on other kernels either way.

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake g++ make pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
      libcli11-dev nlohmann-json3-dev libcap-dev libcairo2-dev libncurses-dev catch2 \
      prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG VMLINUX_H=
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPCTX_BUILD_TESTS=OFF \
      -DPCTX_VMLINUX_H="${VMLINUX_H:+/src/${VMLINUX_H}}" \
 && cmake --build /build -j"$(nproc)" --target pctx-bpf \
 && strip /build/userspace/pctx-bpf \
 && ldd /build/userspace/pctx-bpf

# The runtime stage: exactly what `ldd pctx-bpf` lists on bookworm (the
# project's tests check this list against ldd of the built binary).
FROM scratch AS runtime
COPY --from=build /lib/x86_64-linux-gnu/libbpf.so.1 /lib/x86_64-linux-gnu/libbpf.so.1
COPY --from=build /lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1
COPY --from=build /lib/x86_64-linux-gnu/libcap.so.2 /lib/x86_64-linux-gnu/libcap.so.2
COPY --from=build /lib/x86_64-linux-gnu/libelf.so.1 /lib/x86_64-linux-gnu/libelf.so.1
COPY --from=build /lib/x86_64-linux-gnu/libcairo.so.2 /lib/x86_64-linux-gnu/libcairo.so.2
COPY --from=build /lib/x86_64-linux-gnu/libncursesw.so.6 /lib/x86_64-linux-gnu/libncursesw.so.6
COPY --from=build /lib/x86_64-linux-gnu/libtinfo.so.6 /lib/x86_64-linux-gnu/libtinfo.so.6
COPY --from=build /lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6
COPY --from=build /lib/x86_64-linux-gnu/libm.so.6 /lib/x86_64-linux-gnu/libm.so.6
COPY --from=build /lib/x86_64-linux-gnu/libgcc_s.so.1 /lib/x86_64-linux-gnu/libgcc_s.so.1
COPY --from=build /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libc.so.6
COPY --from=build /lib64/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2
COPY --from=build /lib/x86_64-linux-gnu/libpixman-1.so.0 /lib/x86_64-linux-gnu/libpixman-1.so.0
COPY --from=build /lib/x86_64-linux-gnu/libfontconfig.so.1 /lib/x86_64-linux-gnu/libfontconfig.so.1
COPY --from=build /lib/x86_64-linux-gnu/libfreetype.so.6 /lib/x86_64-linux-gnu/libfreetype.so.6
COPY --from=build /lib/x86_64-linux-gnu/libpng16.so.16 /lib/x86_64-linux-gnu/libpng16.so.16
COPY --from=build /lib/x86_64-linux-gnu/libxcb-shm.so.0 /lib/x86_64-linux-gnu/libxcb-shm.so.0
COPY --from=build /lib/x86_64-linux-gnu/libxcb.so.1 /lib/x86_64-linux-gnu/libxcb.so.1
COPY --from=build /lib/x86_64-linux-gnu/libxcb-render.so.0 /lib/x86_64-linux-gnu/libxcb-render.so.0
COPY --from=build /lib/x86_64-linux-gnu/libXrender.so.1 /lib/x86_64-linux-gnu/libXrender.so.1
COPY --from=build /lib/x86_64-linux-gnu/libX11.so.6 /lib/x86_64-linux-gnu/libX11.so.6
COPY --from=build /lib/x86_64-linux-gnu/libXext.so.6 /lib/x86_64-linux-gnu/libXext.so.6
COPY --from=build /lib/x86_64-linux-gnu/libexpat.so.1 /lib/x86_64-linux-gnu/libexpat.so.1
COPY --from=build /lib/x86_64-linux-gnu/libbrotlidec.so.1 /lib/x86_64-linux-gnu/libbrotlidec.so.1
COPY --from=build /lib/x86_64-linux-gnu/libXau.so.6 /lib/x86_64-linux-gnu/libXau.so.6
COPY --from=build /lib/x86_64-linux-gnu/libXdmcp.so.6 /lib/x86_64-linux-gnu/libXdmcp.so.6
COPY --from=build /lib/x86_64-linux-gnu/libbrotlicommon.so.1 /lib/x86_64-linux-gnu/libbrotlicommon.so.1
COPY --from=build /lib/x86_64-linux-gnu/libbsd.so.0 /lib/x86_64-linux-gnu/libbsd.so.0
COPY --from=build /lib/x86_64-linux-gnu/libmd.so.0 /lib/x86_64-linux-gnu/libmd.so.0
COPY --from=build /lib/x86_64-linux-gnu/libprometheus-cpp-pull.so.1.0 /lib/x86_64-linux-gnu/libprometheus-cpp-pull.so.1.0
COPY --from=build /lib/x86_64-linux-gnu/libprometheus-cpp-core.so.1.0 /lib/x86_64-linux-gnu/libprometheus-cpp-core.so.1.0
COPY --from=build /lib/x86_64-linux-gnu/libcivetweb-cpp.so.1 /lib/x86_64-linux-gnu/libcivetweb-cpp.so.1
COPY --from=build /lib/x86_64-linux-gnu/libcivetweb.so.1 /lib/x86_64-linux-gnu/libcivetweb.so.1
COPY --from=build /build/userspace/pctx-bpf /usr/bin/pctx-bpf
USER 0
ENTRYPOINT ["/usr/bin/pctx-bpf"]
CMD ["doctor"]
