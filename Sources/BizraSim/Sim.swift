public enum Sim {}
