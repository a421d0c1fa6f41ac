# Turns jail/wrapper/jailed_code.py into a C++ source defining
# cjs::jail::kJailedCodeTemplate. Run at build time by jail/CMakeLists.txt.
file(READ "${INPUT}" content)
string(FIND "${content}" ")CJS_WRAPPER\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from jail/wrapper/jailed_code.py; do not edit.\n"
  "namespace cjs::jail {\n"
  "extern const char kJailedCodeTemplate[];\n"
  "const char kJailedCodeTemplate[] = R\"CJS_WRAPPER(${content})CJS_WRAPPER\";\n"
  "}  // namespace cjs::jail\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
