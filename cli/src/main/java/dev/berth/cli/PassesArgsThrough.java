package dev.berth.cli;

/**
 * Marks a command whose arguments after the first positional belong to the program it starts
 * ({@code berth service create IMAGE CMD --flag}), as in Docker: picocli stops parsing options there.
 */
public interface PassesArgsThrough {}
