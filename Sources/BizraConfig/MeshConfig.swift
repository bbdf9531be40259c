public enum BizraConfigPlaceholder {}
