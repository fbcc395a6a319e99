package nexflow.tests;

/** The main class of the test classpath jar; it only says what the jar is for. */
public final class Classpath {
    private Classpath() {}

    public static void main(String[] args) {
        System.out.println("Flink, Jackson and logging for compiling and running generated Java in tests");
    }
}
