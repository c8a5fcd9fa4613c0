# `cpack -G DEB` in the build folder builds convex-importd_VERSION_ARCH.deb: the binary, the
# systemd unit, the example configuration and the logrotate snippet (both conffiles, so an
# upgrade keeps local edits), and the README.

install(FILES ${PROJECT_SOURCE_DIR}/systemd/convex-importd.service
        DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/config/convex-importd.toml
        DESTINATION /etc/convex-importd)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/convex-importd.logrotate
        DESTINATION /etc/logrotate.d RENAME convex-importd)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION share/doc/convex-importd)

set(conffiles ${PROJECT_BINARY_DIR}/debian/conffiles)
file(WRITE ${conffiles} "/etc/convex-importd/convex-importd.toml\n/etc/logrotate.d/convex-importd\n")

set(CPACK_PACKAGE_NAME convex-importd)
set(CPACK_PACKAGE_VENDOR "convex-importd")
set(CPACK_PACKAGE_CONTACT "convex-importd maintainers <convex-importd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "bulk sign-up of users into a Convex Auth app from CSV files")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${conffiles} ${CMAKE_CURRENT_LIST_DIR}/deb/postinst ${CMAKE_CURRENT_LIST_DIR}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
