# The layers of the source tree, bottom up: os/ (kernel wrappers), common/
# (the API model), then jail/ and server/, which never include each other.
# A layer may include only from the layers below it.
#
# include()d by the top-level CMakeLists.txt: configuring fails on a
# forbidden include. Also runs as a script (the style test uses it on a
# copy of the tree):  cmake -DCJS_SOURCE_DIR=<tree> -P cmake/layers.cmake

# Fails when a C/C++ file under <root>/<folder> includes "<forbidden>/..."
# for any of the forbidden folders.
function(cjs_forbid_includes root folder)
  file(GLOB_RECURSE sources LIST_DIRECTORIES false
       "${root}/${folder}/*.h" "${root}/${folder}/*.hpp" "${root}/${folder}/*.c"
       "${root}/${folder}/*.cpp")
  list(JOIN ARGN "|" forbidden)
  set(pattern "^[ \t]*#[ \t]*include[ \t]*[<\"](${forbidden})/")
  set(found "")
  foreach(source IN LISTS sources)
    file(STRINGS "${source}" lines REGEX "${pattern}")
    foreach(line IN LISTS lines)
      file(RELATIVE_PATH relative "${root}" "${source}")
      string(STRIP "${line}" line)
      string(APPEND found "\n  ${relative}: ${line}")
    endforeach()
  endforeach()
  if(found)
    message(FATAL_ERROR "layering: ${folder}/ may not include from ${ARGN}:${found}")
  endif()
endfunction()

# Every rule of the layering, for the tree at `root`.
function(cjs_check_layers root)
  cjs_forbid_includes("${root}" os common jail server)
  cjs_forbid_includes("${root}" common jail server)
  cjs_forbid_includes("${root}" jail server)
  cjs_forbid_includes("${root}" server jail)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT CJS_SOURCE_DIR)
    message(FATAL_ERROR "usage: cmake -DCJS_SOURCE_DIR=<tree> -P layers.cmake")
  endif()
  cjs_check_layers("${CJS_SOURCE_DIR}")
  message(STATUS "layering: ${CJS_SOURCE_DIR} keeps its layers")
endif()
