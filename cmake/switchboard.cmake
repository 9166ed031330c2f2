# Helpers that keep each library's and service's CMakeLists.txt to a dozen lines.
#
#   sb_library(core SRCS src/a.cpp DEPS PkgConfig::NATS)        -> target sb_core, alias sb::core,
#                                                                  public include/ directory
#   sb_tests(core SRCS tests/a_test.cpp tests/b_pgtest.cpp DEPS sb::core)
#                                                                -> one binary per file, labelled by
#                                                                   suffix: _test unit, _pgtest pg, ...
#   sb_service(admin SRCS src/x.cpp DEPS ...)                    -> admin_core library + sb-admin exe
#   sb_fuzzer(sip_message SRCS fuzz/message_fuzz.cpp DEPS sb::sip_message)
#   sb_proto(common PROTOS switchboard/common/v1/ids.proto ... DEPS)

function(sb_add_subdirectories parent)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}/${parent}
       ${CMAKE_CURRENT_SOURCE_DIR}/${parent}/*)
  list(SORT children)
  foreach(child ${children})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${parent}/${child}/CMakeLists.txt)
      add_subdirectory(${parent}/${child})
    endif()
  endforeach()
endfunction()

function(sb_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  if(ARG_SRCS)
    add_library(sb_${name} STATIC ${ARG_SRCS})
    target_include_directories(sb_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                               PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_link_libraries(sb_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  else()
    add_library(sb_${name} INTERFACE)
    target_include_directories(sb_${name} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(sb_${name} INTERFACE ${ARG_DEPS})
  endif()
  add_library(sb::${name} ALIAS sb_${name})
endfunction()

# Test tier from the file name: *_test.cpp unit, *_pgtest.cpp pg, *_redistest.cpp redis,
# *_natstest.cpp nats, *_itest.cpp integration (several servers), *_e2etest.cpp e2e.
function(sb_test_label file out)
  get_filename_component(stem ${file} NAME_WE)
  if(stem MATCHES "_pgtest$")
    set(label pg)
  elseif(stem MATCHES "_redistest$")
    set(label redis)
  elseif(stem MATCHES "_natstest$")
    set(label nats)
  elseif(stem MATCHES "_itest$")
    set(label integration)
  elseif(stem MATCHES "_e2etest$")
    set(label e2e)
  else()
    set(label unit)
  endif()
  set(${out} ${label} PARENT_SCOPE)
endfunction()

function(sb_tests prefix)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  foreach(src ${ARG_SRCS})
    get_filename_component(stem ${src} NAME_WE)
    set(target ${prefix}_${stem})
    add_executable(${target} ${src})
    target_link_libraries(${target} PRIVATE Catch2::Catch2WithMain ${ARG_DEPS})
    sb_test_label(${src} label)
    set(props LABELS ${label})
    # Real-server tiers find the servers scripts/test started through SB_TEST_SERVERS, which
    # ctest passes on from its own environment (see libs/testing/README.md).
    if(label STREQUAL "unit")
      list(APPEND props TIMEOUT 60)
    else()
      list(APPEND props TIMEOUT 300)
    endif()
    catch_discover_tests(${target} TEST_PREFIX "${prefix}." PROPERTIES ${props})
  endforeach()
endfunction()

function(sb_service name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name}_core STATIC ${ARG_SRCS})
  target_include_directories(${name}_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${name}_core PUBLIC ${ARG_DEPS})
  add_executable(sb-${name} main.cpp)
  target_link_libraries(sb-${name} PRIVATE ${name}_core)
  if(SB_JEMALLOC)
    # Linked, not preloaded: its malloc and free replace glibc's for the whole process.
    target_link_libraries(sb-${name} PRIVATE PkgConfig::JEMALLOC)
  endif()
endfunction()

function(sb_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  if(NOT SB_FUZZ)
    return()
  endif()
  add_executable(fuzz_${name} ${ARG_SRCS})
  target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_${name} PRIVATE ${ARG_DEPS})
endfunction()

# One library per proto package: sb_proto(common PROTOS switchboard/common/v1/x.proto) ->
# sb_proto_common (alias sb::proto_common); include as "switchboard/common/v1/x.pb.h".
function(sb_proto name)
  cmake_parse_arguments(ARG "GRPC" "" "PROTOS;DEPS" ${ARGN})
  add_library(sb_proto_${name} STATIC ${ARG_PROTOS})
  target_link_libraries(sb_proto_${name} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  target_include_directories(sb_proto_${name} PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
  # Generated code is not ours to warn about.
  target_compile_options(sb_proto_${name} PRIVATE -w)
  protobuf_generate(TARGET sb_proto_${name} LANGUAGE cpp
                    IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR} PROTOC_OUT_DIR ${CMAKE_CURRENT_BINARY_DIR})
  if(ARG_GRPC)
    target_link_libraries(sb_proto_${name} PUBLIC gRPC::grpc++)
    protobuf_generate(TARGET sb_proto_${name} LANGUAGE grpc
                      GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
                      PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
                      IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR} PROTOC_OUT_DIR ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  add_library(sb::proto_${name} ALIAS sb_proto_${name})
endfunction()
