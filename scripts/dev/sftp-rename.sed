# sftp-rename.sed: the SFTP functions' old names (transport/sshconn.h,
# prefix sshconn_) to their names in transport/sftp.h (prefix sftp_).
#
# On a branch that still uses the old names, from the top of the tree:
#
#   re='sshconn_(sftp_as|sftp_ext|l?stat(_many)?|readlink|mkdir|rmdir'
#   re="$re|chown_handle|read_file|read_head|write_new(_many)?|newfile"
#   re="$re|try_create|check_readable|unlink|rename(_many)?|replace_many"
#   re="$re|link_many)"
#   git grep -lwE "$re" -- '*.c' '*.h' ':!scripts/' ':!transport/' |
#       xargs -r sed -i -f scripts/dev/sftp-rename.sed
#
# A file that uses them and includes transport/sshconn.h gets
# transport/sftp.h as well (orchestrator/run.h has it for the files that
# include run.h).  struct sshconn_stat is struct sftp_stat (defined in
# transport/sftpwire.h), struct sshconn_newfile is struct sftp_newfile.

/^#include "transport\/sshconn\.h"$/i #include "transport/sftp.h"

s/\<sshconn_sftp_as\>/sftp_as/g
s/\<sshconn_sftp_ext\>/sftp_ext/g
s/\<sshconn_stat\>/sftp_stat/g
s/\<sshconn_stat_many\>/sftp_stat_many/g
s/\<sshconn_lstat\>/sftp_lstat/g
s/\<sshconn_lstat_many\>/sftp_lstat_many/g
s/\<sshconn_readlink\>/sftp_readlink/g
s/\<sshconn_mkdir\>/sftp_mkdir/g
s/\<sshconn_rmdir\>/sftp_rmdir/g
s/\<sshconn_chown_handle\>/sftp_chown_handle/g
s/\<sshconn_read_file\>/sftp_read_file/g
s/\<sshconn_read_head\>/sftp_read_head/g
s/\<sshconn_write_new\>/sftp_write_new/g
s/\<sshconn_write_new_many\>/sftp_write_new_many/g
s/\<sshconn_newfile\>/sftp_newfile/g
s/\<sshconn_try_create\>/sftp_try_create/g
s/\<sshconn_check_readable\>/sftp_check_readable/g
s/\<sshconn_unlink\>/sftp_unlink/g
s/\<sshconn_rename\>/sftp_rename/g
s/\<sshconn_rename_many\>/sftp_rename_many/g
s/\<sshconn_replace_many\>/sftp_replace_many/g
s/\<sshconn_link_many\>/sftp_link_many/g
