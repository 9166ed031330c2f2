# Warnings, sanitizers and ccache for every target in the tree.
find_program(SB_CCACHE ccache)
if(SB_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER ${SB_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${SB_CCACHE})
endif()

add_compile_options(-Wall -Wextra)
if(SB_WERROR)
  add_compile_options(-Werror)
endif()

if(SB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(SB_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "SB_FUZZ needs clang: configure with -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
endif()
