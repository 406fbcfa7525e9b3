# bpf_skeleton(NAME SOURCE [SOURCE ...])
#   Compiles each SOURCE for the BPF target against vmlinux.h, strips DWARF
#   (BTF stays), links them into one object with bpftool's static linker (a
#   map or setting defined in one unit is declared extern in the others),
#   generates NAME.skel.h and exposes it through the INTERFACE target
#   NAME_skel. A function, so nothing leaks between calls.

find_program(BPF_CLANG NAMES clang REQUIRED)
find_program(BPF_LLVM_STRIP NAMES llvm-strip REQUIRED)
find_program(BPF_BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

set(PCTX_VMLINUX_H "" CACHE FILEPATH
    "vmlinux.h to compile BPF programs against (empty: generate from this machine's BTF)")
set(PCTX_BTF_SOURCE "/sys/kernel/btf/vmlinux" CACHE FILEPATH
    "BTF used to generate vmlinux.h when PCTX_VMLINUX_H is empty")

set(_bpf_gen_dir "${CMAKE_BINARY_DIR}/bpf-gen")
file(MAKE_DIRECTORY "${_bpf_gen_dir}")

if(PCTX_VMLINUX_H)
  set(_vmlinux_h "${PCTX_VMLINUX_H}")
  get_filename_component(_vmlinux_dir "${_vmlinux_h}" DIRECTORY)
else()
  if(NOT EXISTS "${PCTX_BTF_SOURCE}")
    message(FATAL_ERROR
      "No BTF at ${PCTX_BTF_SOURCE} to generate vmlinux.h from: build on a kernel "
      "with CONFIG_DEBUG_INFO_BTF=y, or pass -DPCTX_VMLINUX_H=/path/to/vmlinux.h")
  endif()
  set(_vmlinux_dir "${_bpf_gen_dir}/vmlinux")
  set(_vmlinux_h "${_vmlinux_dir}/vmlinux.h")
  add_custom_command(
    OUTPUT "${_vmlinux_h}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${_vmlinux_dir}"
    COMMAND ${BPF_BPFTOOL} btf dump file "${PCTX_BTF_SOURCE}" format c > "${_vmlinux_h}.tmp"
    COMMAND ${CMAKE_COMMAND} -E rename "${_vmlinux_h}.tmp" "${_vmlinux_h}"
    COMMENT "Generating vmlinux.h from ${PCTX_BTF_SOURCE}"
    VERBATIM)
endif()
# A target, so programs in any directory can wait for the header.
add_custom_target(pctx_vmlinux_h DEPENDS "${_vmlinux_h}")

# clang's own system include dirs, after ours, so <bpf/...> and asm types resolve.
execute_process(
  COMMAND ${BPF_CLANG} -v -E -
  INPUT_FILE /dev/null
  OUTPUT_QUIET
  ERROR_VARIABLE _clang_v)
string(REGEX MATCH "#include <...> search starts here:\n(.*)End of search list" _m "${_clang_v}")
string(REGEX REPLACE "\n *" ";" _sys_dirs "${CMAKE_MATCH_1}")
set(_bpf_sys_includes "")
foreach(_d IN LISTS _sys_dirs)
  if(_d)
    list(APPEND _bpf_sys_includes -idirafter "${_d}")
  endif()
endforeach()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(_bpf_arch x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(_bpf_arch arm64)
else()
  set(_bpf_arch ${CMAKE_SYSTEM_PROCESSOR})
endif()

function(bpf_skeleton name)
  set(_units "")
  set(_src_dir "")
  foreach(source IN LISTS ARGN)
    get_filename_component(_src "${source}" ABSOLUTE)
    get_filename_component(_src_dir "${_src}" DIRECTORY)
    get_filename_component(_stem "${_src}" NAME_WE)
    file(GLOB _bpf_headers "${_src_dir}/*.h")
    set(_unit "${_bpf_gen_dir}/${name}-${_stem}.o")
    add_custom_command(
      OUTPUT "${_unit}"
      COMMAND ${BPF_CLANG} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_${_bpf_arch}
              -I "${_vmlinux_dir}" -I "${_src_dir}" ${_bpf_sys_includes}
              -c "${_src}" -o "${_unit}.tmp"
      COMMAND ${BPF_LLVM_STRIP} -g "${_unit}.tmp"
      COMMAND ${CMAKE_COMMAND} -E rename "${_unit}.tmp" "${_unit}"
      DEPENDS "${_src}" ${_bpf_headers} pctx_vmlinux_h
      COMMENT "BPF ${_stem}.bpf.c"
      VERBATIM)
    list(APPEND _units "${_unit}")
  endforeach()
  set(_obj "${_bpf_gen_dir}/${name}.bpf.o")
  set(_skel "${_bpf_gen_dir}/${name}.skel.h")
  add_custom_command(
    OUTPUT "${_obj}"
    COMMAND ${BPF_BPFTOOL} gen object "${_obj}.tmp" ${_units}
    COMMAND ${CMAKE_COMMAND} -E rename "${_obj}.tmp" "${_obj}"
    DEPENDS ${_units}
    COMMENT "BPF link ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT "${_skel}"
    # Generated code: clang-tidy's business is ours, not bpftool's.
    COMMAND ${CMAKE_COMMAND} -E echo "// NOLINTBEGIN" > "${_skel}.tmp"
    COMMAND ${BPF_BPFTOOL} gen skeleton "${_obj}" name ${name}_bpf >> "${_skel}.tmp"
    COMMAND ${CMAKE_COMMAND} -E echo "// NOLINTEND" >> "${_skel}.tmp"
    COMMAND ${CMAKE_COMMAND} -E rename "${_skel}.tmp" "${_skel}"
    DEPENDS "${_obj}"
    COMMENT "Skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS "${_skel}")
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE "${_bpf_gen_dir}" "${_src_dir}")
endfunction()
