# SPDX-License-Identifier: GPL-2.0-only
# Port variants: a copy of sim/dio/direct_io.cpp with one patch applied, built into its own
# `diosim` executable, so mutants (the bug zoo) and crash probes live as patches beside their
# tests and the port itself stays the kernel's text.
#
#   diosim_port_variant(NAME PATCH_FILE)  ->  executable target diosim-NAME in the build root
#
# The patched source is regenerated when the patch or the port changes; a patch that no longer
# applies fails the build, naming the patch.
include_guard(GLOBAL)

# The command-line sources are compiled once for all variants, except those that name
# DIOSIM_PORT_SOURCE (coverage and fuzz read the variant's own AT markers): a dozen variants
# otherwise recompile the whole CLI a dozen times.
function(_diosim_variant_cli_common)
  if(TARGET diosim_variant_cli_common)
    return()
  endif()
  file(GLOB cli_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cli/*.cpp)
  set(common)
  set(per_variant)
  foreach(src ${cli_sources})
    file(STRINGS ${src} uses_port REGEX "DIOSIM_PORT_SOURCE")
    if(uses_port)
      list(APPEND per_variant ${src})
    else()
      list(APPEND common ${src})
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY DIOSIM_VARIANT_CLI_PER_VARIANT ${per_variant})
  add_library(diosim_variant_cli_common OBJECT ${common})
  target_include_directories(diosim_variant_cli_common PRIVATE ${CMAKE_SOURCE_DIR})
  target_compile_options(diosim_variant_cli_common PRIVATE -Wall -Wno-unused-parameter -Wno-sign-compare)
  target_link_libraries(diosim_variant_cli_common PRIVATE diosim_model diosim_viz CLI11::CLI11)
  target_compile_definitions(diosim_variant_cli_common PRIVATE
    DIOSIM_SCENARIO_DIR="${CMAKE_SOURCE_DIR}/scenarios"
    DIOSIM_REFERENCE_SOURCE="${DIOSIM_REFERENCE_DIR}/direct-io.c")
endfunction()

function(diosim_port_variant name patch_file)
  set(out_dir ${CMAKE_BINARY_DIR}/variants/${name})
  set(out_src ${out_dir}/direct_io.cpp)
  set(port ${CMAKE_SOURCE_DIR}/sim/dio/direct_io.cpp)
  add_custom_command(
    OUTPUT ${out_src}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND patch --quiet --forward --reject-file=- -o ${out_src} ${port} ${patch_file}
    DEPENDS ${port} ${patch_file}
    COMMENT "Applying ${patch_file} to the port (variant ${name})"
    VERBATIM)
  _diosim_variant_cli_common()
  get_property(per_variant GLOBAL PROPERTY DIOSIM_VARIANT_CLI_PER_VARIANT)
  # The patched port's object is linked directly, so the archive's direct_io.o is never pulled.
  add_executable(diosim-${name} ${per_variant} $<TARGET_OBJECTS:diosim_variant_cli_common> ${out_src})
  target_include_directories(diosim-${name} PRIVATE ${CMAKE_SOURCE_DIR})
  target_compile_options(diosim-${name} PRIVATE -Wall -Wno-unused-parameter -Wno-sign-compare)
  target_link_libraries(diosim-${name} PRIVATE diosim_model diosim_viz CLI11::CLI11)
  set_target_properties(diosim-${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
  target_compile_definitions(diosim-${name} PRIVATE
    DIOSIM_SCENARIO_DIR="${CMAKE_SOURCE_DIR}/scenarios"
    DIOSIM_PORT_SOURCE="${out_src}"
    DIOSIM_REFERENCE_SOURCE="${DIOSIM_REFERENCE_DIR}/direct-io.c"
    DIOSIM_VARIANT="${name}")
endfunction()
