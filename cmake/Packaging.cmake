# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package (./sipsleuth package, or `cpack -G DEB` in the build tree): sipsleuth.so in
# Wireshark's global plugin folder and the sipsleuth configuration profile in Wireshark's global
# profiles folder, for every user of the machine. A plugin is built for one Wireshark ABI, so the
# package depends on exactly the Wireshark libraries it was built against (their Debian versions).
#
# The package has its own install component, "deb" (never installed by a plain `cmake --install`):
# the "plugins" component keeps its relative layout (<prefix>/epan/sipsleuth.so) for the personal and
# global installs of ./sipsleuth analyze.

pkg_check_modules(SIPSLEUTH_WS_PKG QUIET wireshark)
pkg_get_variable(SIPSLEUTH_WS_PLUGINDIR wireshark plugindir)   # /usr/lib/<triplet>/wireshark/plugins/4.0
if(NOT SIPSLEUTH_WS_PLUGINDIR MATCHES "^/usr/")
  message(FATAL_ERROR "Wireshark's plugin folder ${SIPSLEUTH_WS_PLUGINDIR} is not under /usr")
endif()
file(RELATIVE_PATH _plugin_rel "/usr" "${SIPSLEUTH_WS_PLUGINDIR}")
install(TARGETS sipsleuth LIBRARY DESTINATION "${_plugin_rel}/epan" COMPONENT deb EXCLUDE_FROM_ALL)
# The profile (colouring rules, columns, filter buttons): the "profile" component, which installs it
# into <prefix>/share/wireshark/profiles/sipsleuth, where Wireshark looks for global profiles.
get_cmake_property(_components COMPONENTS)
set(_packaged deb)
if("profile" IN_LIST _components)
  list(APPEND _packaged profile)
endif()

# Depends: the Debian package of each library the plugin links, found with dpkg; Wireshark's own
# libraries pinned to the exact version (the plugin ABI), the others at least the version built against.
find_program(SIPSLEUTH_DPKG_QUERY dpkg-query)
set(_depends "")
if(SIPSLEUTH_DPKG_QUERY)
  foreach(_lib ${SIPSLEUTH_WS_PKG_LINK_LIBRARIES} ${PUGIXML_LINK_LIBRARIES})
    if(NOT IS_ABSOLUTE "${_lib}" OR NOT EXISTS "${_lib}")
      continue()
    endif()
    file(REAL_PATH "${_lib}" _real)
    execute_process(COMMAND ${SIPSLEUTH_DPKG_QUERY} -S "${_real}" OUTPUT_VARIABLE _owner RESULT_VARIABLE _rc
                    ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT _rc EQUAL 0)
      continue()
    endif()
    string(REGEX REPLACE "[:,].*$" "" _pkg "${_owner}")      # "libwireshark16:amd64: /usr/lib/..." -> name
    execute_process(COMMAND ${SIPSLEUTH_DPKG_QUERY} -W "-f=\${Version}\t\${source:Package}" "${_pkg}"
                    OUTPUT_VARIABLE _info OUTPUT_STRIP_TRAILING_WHITESPACE)
    string(REPLACE "\t" ";" _info "${_info}")
    list(GET _info 0 _version)
    list(GET _info 1 _source)
    if(_source STREQUAL "wireshark")
      set(_dep "${_pkg} (= ${_version})")
    else()
      set(_dep "${_pkg} (>= ${_version})")
    endif()
    list(FIND _depends "${_dep}" _seen)
    if(_seen EQUAL -1)
      list(APPEND _depends "${_dep}")
    endif()
  endforeach()
endif()
if(NOT _depends MATCHES "libwireshark")
  message(WARNING "dpkg does not know the package of ${SIPSLEUTH_WS_PKG_LINK_LIBRARIES}: the .deb would not pin the Wireshark ABI")
endif()
list(APPEND _depends "libstdc++6" "libgcc-s1" "libc6")
list(JOIN _depends ", " SIPSLEUTH_DEB_DEPENDS)
set(SIPSLEUTH_DEB_DEPENDS "${SIPSLEUTH_DEB_DEPENDS}" CACHE INTERNAL "Depends of the sipsleuth .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sipsleuth)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "sipsleuth")
set(CPACK_PACKAGE_CONTACT "sipsleuth maintainers <sipsleuth@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Wireshark ${SIPSLEUTH_WS_API} plugins naming the root cause of SIP troubleshooting cases")
set(CPACK_PACKAGE_DESCRIPTION "Six protocols in one plugin, sipsleuth.so: ciscoalarm, dialoginfo, rlmi, mssip, msrpa and
siptrack, as display-filter fields and expert info in Wireshark and tshark; and the sipsleuth
configuration profile (colouring rules, columns and filter buttons for the findings).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL ${_packaged})
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)                   # sipsleuth_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${SIPSLEUTH_DEB_DEPENDS}")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tshark | wireshark-qt")
set(CPACK_STRIP_FILES TRUE)                               # the debug info stays in the build tree
set(CPACK_PACKAGE_CHECKSUM SHA256)
include(CPack)
