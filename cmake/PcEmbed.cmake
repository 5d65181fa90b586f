# pc_embed_assets(OUTPUT <file.cpp> FILES <file> ...)
#   Generates <file.cpp> defining pc::admin::findAsset()/assetNames() (src/admin/assets.hpp) over
#   the bytes of FILES, so the dashboard ships inside the binary. Regenerated when a file changes.
function(pc_embed_assets)
  cmake_parse_arguments(E "" "OUTPUT" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUT=${E_OUTPUT} "-DFILES=${E_FILES}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    COMMENT "Embedding dashboard assets"
    VERBATIM)
endfunction()
