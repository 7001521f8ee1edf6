package dev.berth.cli;

import java.lang.reflect.Constructor;
import picocli.CommandLine;
import picocli.CommandLine.IFactory;

/**
 * Creates command objects for picocli: classes with a {@code (CliContext)} constructor get the
 * invocation's context, {@link GlobalOptions} resolves to the context's single instance, and
 * everything else (e.g. the manager and agent commands) is made by picocli's default factory.
 */
public final class CliFactory implements IFactory {
  private final CliContext ctx;
  private final IFactory fallback = CommandLine.defaultFactory();

  public CliFactory(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public <K> K create(Class<K> cls) throws Exception {
    if (cls == GlobalOptions.class) {
      return cls.cast(ctx.globalOptions());
    }
    Constructor<K> withContext;
    try {
      withContext = cls.getDeclaredConstructor(CliContext.class);
    } catch (NoSuchMethodException e) {
      return fallback.create(cls);
    }
    withContext.setAccessible(true);
    return withContext.newInstance(ctx);
  }
}
