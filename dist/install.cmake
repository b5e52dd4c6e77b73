# install.cmake - install-time part of dist/CMakeLists.txt. CMAKE_INSTALL_PREFIX
# is the prefix of this install; file(INSTALL) adds $DESTDIR itself.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(sysconf "/etc") # the FHS place for a system package's configuration
else()
  set(sysconf "${prefix}/etc")
endif()
if(IS_ABSOLUTE "${DNSD_UNIT_DIR}")
  set(unitdir "${DNSD_UNIT_DIR}")
else()
  set(unitdir "${prefix}/${DNSD_UNIT_DIR}")
endif()

# The committed files carry Debian's paths; rewrite them for this prefix.
foreach(name dnsd.service dnsd.yaml)
  file(READ "${DNSD_DIST_SRC}/${name}" text)
  string(REPLACE "/usr/sbin/dnsd" "${prefix}/sbin/dnsd" text "${text}")
  string(REPLACE "/etc/dnsd/" "${sysconf}/dnsd/" text "${text}")
  # Built without sd_notify (-DDNSD_SYSTEMD=OFF): READY=1 never comes, so
  # systemd must count the service as started once it has been executed.
  if(NOT DNSD_NOTIFY)
    string(REPLACE "\nType=notify\n" "\nType=exec\n" text "${text}")
  endif()
  file(WRITE "${DNSD_DIST_BIN}/install/${name}" "${text}")
endforeach()

file(INSTALL "${DNSD_DIST_BIN}/install/dnsd.service" DESTINATION "${unitdir}")
set(examples "${DNSD_DIST_BIN}/install/dnsd.yaml" "${DNSD_ZONE_EXAMPLE}")
file(INSTALL ${examples} DESTINATION "${prefix}/${DNSD_DOCDIR}/examples")
# The AF_XDP drop-in is opt-in: an example to copy, never active by itself.
file(INSTALL "${DNSD_DIST_SRC}/systemd/dnsd.service.d"
     DESTINATION "${prefix}/${DNSD_DOCDIR}/examples")

# The live config only where there is none yet: a reinstall never overwrites
# an operator's file.
foreach(f ${examples})
  get_filename_component(n "${f}" NAME)
  if(EXISTS "$ENV{DESTDIR}${sysconf}/dnsd/${n}")
    message(STATUS "Keeping: $ENV{DESTDIR}${sysconf}/dnsd/${n}")
  else()
    file(INSTALL "${f}" DESTINATION "${sysconf}/dnsd"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
  endif()
endforeach()
