package org.apache.hadoop.io;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * The local stack's stand-in for Hadoop's SecureIOUtils, first on the classpath of the secure
 * profile's NodeManager only (docker/local/services/yarn.sh): the same methods, opening files
 * as Hadoop's own class does when security is off, without checking their owner.
 *
 * Why: with Kerberos on, Hadoop's class checks each container log's owner through its native
 * library (libhadoop.so, which Maven Central does not carry), so the NodeManager dies the
 * first time it aggregates a container's logs, and cannot serve them. Its check would not hold
 * here anyway: it expects the application's user to own the files, while under the default
 * container executor (no root) every container runs as the NodeManager's own OS user.
 */
public class SecureIOUtils {
  private static volatile FileSystem raw;

  public SecureIOUtils() {}

  private static FileSystem raw() throws IOException {
    if (raw == null) raw = FileSystem.getLocal(new Configuration()).getRaw();
    return raw;
  }

  public static RandomAccessFile openForRandomRead(
      File f, String mode, String expectedOwner, String expectedGroup) throws IOException {
    return new RandomAccessFile(f, mode);
  }

  public static FSDataInputStream openFSDataInputStream(
      File file, String expectedOwner, String expectedGroup) throws IOException {
    return raw().open(new Path(file.getAbsolutePath()));
  }

  public static FileInputStream openForRead(File f, String expectedOwner, String expectedGroup)
      throws IOException {
    return new FileInputStream(f);
  }

  /** A new file (never an existing one), with these permissions. */
  public static FileOutputStream createForWrite(File f, int permissions) throws IOException {
    if (!f.createNewFile()) throw new AlreadyExistsException("File " + f + " already exists");
    raw().setPermission(new Path(f.getAbsolutePath()), new FsPermission((short) permissions));
    return new FileOutputStream(f);
  }

  /** The file to create already exists. */
  public static class AlreadyExistsException extends IOException {
    private static final long serialVersionUID = 1L;

    public AlreadyExistsException(String msg) {
      super(msg);
    }

    public AlreadyExistsException(Throwable cause) {
      super(cause);
    }
  }
}
