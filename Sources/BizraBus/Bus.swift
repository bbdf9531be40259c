public enum BizraBusPlaceholder {}
